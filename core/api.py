"""API-wide pieces: pagination, and the JSON parser that refuses bodies nested too deeply to handle safely.
The error shape and handler are in core/errors.py."""

from django.core.paginator import Paginator as DjangoPaginator
from rest_framework import exceptions, parsers
from rest_framework.pagination import PageNumberPagination
from rest_framework.utils.urls import remove_query_param, replace_query_param


class CountSavingPaginator(DjangoPaginator):
    """Django's paginator without its COUNT query when the first page is not full: its rows are then the
    whole list (a learner's own enrollments or certificates, nearly always). Otherwise as Django's."""

    def page(self, number):
        if str(number) != "1" or "count" in self.__dict__:
            return super().page(number)
        rows = list(self.object_list[: self.per_page])
        if len(rows) < self.per_page:
            self.__dict__["count"] = len(rows)  # `count` is a cached_property: this is its value
        return self._get_page(rows, 1, self)


class Pagination(PageNumberPagination):
    django_paginator_class = CountSavingPaginator
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class SyncPagination(Pagination):
    """Pages by number, except in an incremental sync (`?updated_since=`, core.filters.SyncFilterSet).

    There `next` resumes after the page's last row by (updated_at, id) instead of naming a page number:
    a row written during the sync moves to the end of the order, and page numbers would then skip the
    row that slid into the page already read. `count` is what is left from this page on; `previous` is
    null. The response has the same shape either way.
    """

    def paginate_queryset(self, queryset, request, view=None):
        self.keyset = bool(request.query_params.get("updated_since"))
        rows = super().paginate_queryset(queryset, request, view)
        self.last_row = rows[-1] if rows else None
        return rows

    def get_next_link(self):
        if not self.keyset:
            return super().get_next_link()
        if not self.page.has_next() or self.last_row is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        url = replace_query_param(url, "updated_since", self.last_row.updated_at.isoformat())
        return replace_query_param(url, "after_id", self.last_row.pk)

    def get_previous_link(self):
        return None if self.keyset else super().get_previous_link()


# No request body of this API nests beyond a few levels. Anything far deeper is refused before it reaches
# code that recurses over it (serializers, deepcopy, logging), where 1,000 levels raise RecursionError.
JSON_MAX_DEPTH = 32


def json_depth_exceeds(data, limit: int) -> bool:
    """Whether `data` nests lists/objects deeper than `limit` (iterative: safe on any depth)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering 400 instead of 500 for JSON nested deeper than JSON_MAX_DEPTH."""

    def parse(self, stream, media_type=None, parser_context=None):
        too_deep = f"JSON parse error - nested deeper than {JSON_MAX_DEPTH} levels."
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:  # the json module itself gave up
            raise exceptions.ParseError(too_deep) from None
        if json_depth_exceeds(data, JSON_MAX_DEPTH):
            raise exceptions.ParseError(too_deep)
        return data
