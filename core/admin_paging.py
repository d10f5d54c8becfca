"""Admin change lists over tables of millions of rows (jobs, task results, deliveries, notifications).

Django's admin counts every row of a list on each page load, and counts the whole table again beside a
filtered list. On five million rows each count is a sequential scan of seconds. `LargeTableAdmin` counts
honestly but within bounds:

- an unfiltered list shows PostgreSQL's own estimate (`pg_class.reltuples`, kept by ANALYZE and
  autovacuum), labelled "about"; below COUNT_EXACT_BELOW rows it counts exactly;
- a filtered or searched list counts at most COUNT_CAP + 1 rows, and says "more than 10,000" beyond;
- the whole table is not counted again beside a filtered list (`show_full_result_count = False`).

`admin/pagination.html` (core/templates) prints `paginator.count_label` where there is one.
"""

from functools import cached_property

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections

COUNT_CAP = 10_000
COUNT_EXACT_BELOW = 100_000


class LargeTablePaginator(Paginator):
    count_label = ""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if connections[queryset.db].vendor != "postgresql":
            return super().count
        if not queryset.query.where:
            estimate = _estimated_rows(queryset)
            if estimate >= COUNT_EXACT_BELOW:
                self.count_label = f"about {estimate:,}"
                return estimate
            return super().count
        bounded = queryset.order_by()[: COUNT_CAP + 1].count()
        if bounded > COUNT_CAP:
            self.count_label = f"more than {COUNT_CAP:,}"
        return bounded


def _estimated_rows(queryset) -> int:
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [queryset.model._meta.db_table]
        )
        row = cursor.fetchone()
    return max(0, row[0]) if row else 0


class LargeTableAdmin(admin.ModelAdmin):
    paginator = LargeTablePaginator
    show_full_result_count = False
