"""Database connection helpers for the worker's hot path: prepared statements, broken connections."""

import functools
from contextlib import contextmanager

from django.conf import settings


@contextmanager
def prepared_cursor(connection):
    """Django's cursor on `connection`, whose statements PostgreSQL parses and plans once per connection.

    For the progress sync and the result upsert, which a worker runs for nearly every task: planning them
    again each time held up every sync (P3 in docs/performance.md: about 650 -> 800 syncs/s). Django binds
    parameters on the client and never prepares; inside Django's usual wrapper (query logging, execute
    wrappers, error translation) this cursor binds them on the server and has psycopg prepare the
    statement, on the same connection and in the same transaction. psycopg prepares only while the
    connection's `prepare_threshold` is set (lms/settings.py sets it with DATABASE_PREPARED_STATEMENTS);
    Django's own cursors bind on the client, so they still never prepare.

    Elsewhere (SQLite, or DATABASE_PREPARED_STATEMENTS=false, for a transaction-pooling PgBouncer older
    than 1.21) it is the ordinary cursor.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and settings.DATABASE_PREPARED_STATEMENTS:
            cursor.cursor.close()
            cursor.cursor = _prepared_cursor_class()(connection)
        yield cursor


def drop_if_broken(connection) -> None:
    """Close a connection that a failed statement left unusable, so the next query reconnects.

    Django does this at the start and end of each request; Celery's fixup, once connections are reused
    across tasks (CELERY_DB_REUSE_MAX), only every so many tasks. Without it, a task whose connection was
    killed outside a transaction could not even store its RETRY or FAILURE state. Costs nothing unless an
    error occurred on the connection; never touches one inside a transaction.
    """
    if connection.connection is not None and connection.errors_occurred and not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()


class _LoggedQuery:
    """What Django's query log reads from a cursor (`cursor._query.query`), for a statement the server bound:
    the SQL with its values, composed only if something (DEBUG, CaptureQueriesContext) reads it."""

    __slots__ = ("connection", "params", "sql")

    def __init__(self, connection, sql, params):
        self.connection, self.sql, self.params = connection, sql, params

    @property
    def query(self) -> bytes:
        return self.connection.ops.compose_sql(self.sql, self.params).encode()


@functools.cache
def _prepared_cursor_class():
    # Imported here: the PostgreSQL backend module needs psycopg, which a SQLite-only setup may lack.
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):
        def __init__(self, django_connection):
            super().__init__(django_connection.connection)
            self.django_connection = django_connection

        def execute(self, query, params=None, *, prepare=None, **kwargs):
            result = super().execute(query, params, prepare=True if prepare is None else prepare, **kwargs)
            # psycopg keeps no query text for a server-bound statement; Django's log expects one.
            self._query = _LoggedQuery(self.django_connection, query, params)
            return result

    return PreparedCursor
