"""A report query's rows, streamed in constant memory.

On PostgreSQL outside a transaction, the rows come from a connection of the report's own, in libpq's
chunked-rows mode (psycopg's `Cursor.stream`): the database sends rows as it produces them while the
worker writes the file, so the two overlap on two cores, and a parallel plan stays allowed (a named
server-side cursor forbids one, and Django's `WITH HOLD` cursor outside a transaction materialises the
whole result before the first row: together half again the time, docs/performance.md P9). The worker's
own connection stays free for the progress writes, which staff see as they happen.

Elsewhere (SQLite, inside a transaction such as a test's, or a column whose field converts what the
database returns) it is `QuerySet.iterator`, which fetches in chunks too. Text, numbers and times come
from psycopg as the Python values Django gives for them on PostgreSQL.
"""

from collections.abc import Iterator

from django.db import connections
from django.db.models import QuerySet


def _plain_sql(queryset: QuerySet) -> tuple[str, tuple] | None:
    """The query's SQL and parameters when its rows need no conversion by Django, else None."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return None
    compiler = queryset.query.get_compiler(queryset.db)
    sql, params = compiler.as_sql()
    for expression, _, _ in compiler.select:
        # A field that converts what the database returns (JSON, custom fields) goes through Django.
        if hasattr(expression.output_field, "from_db_value") or connection.ops.get_db_converters(expression):
            return None
    return sql, tuple(params)


def stream_rows(queryset: QuerySet, *, chunk: int) -> Iterator[tuple]:
    """The rows of a `values_list` queryset, in its order, `chunk` at a time from the database."""
    plain = _plain_sql(queryset)
    if plain is None:
        yield from queryset.iterator(chunk)
        return
    reader = connections.create_connection(queryset.db)  # closed below, also when the caller stops early
    try:
        reader.ensure_connection()
        with reader.connection.cursor() as cursor:
            yield from cursor.stream(*plain, size=chunk)
    finally:
        reader.close()
