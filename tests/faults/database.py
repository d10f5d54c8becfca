"""Database faults for tests, injected from a connection of their own: end backends (as an operator's
pg_terminate_backend or a PostgreSQL restart does) and refuse new connections for a while (a database
that is down), on the test database only."""

import threading
from contextlib import contextmanager

import psycopg
from django.db import connection
from psycopg import sql


def _admin_connection(dbname: str | None = None) -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(
        dbname=dbname or db["NAME"],
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        autocommit=True,
    )


def terminate_backends(*, keep: set[int] = frozenset()) -> int:
    """End every other backend of the test database (workers', relays'), but those in `keep`."""
    with _admin_connection() as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND NOT (pid = ANY(%s))",
            [list(keep)],
        ).fetchall()
    return len(rows)


def other_backends(*, keep: set[int] = frozenset()) -> list[int]:
    with _admin_connection() as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND NOT (pid = ANY(%s))",
            [list(keep)],
        ).fetchall()
    return [pid for (pid,) in rows]


def my_backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@contextmanager
def database_down(*, keep: set[int] = frozenset()):
    """The test database refuses new connections and every other backend is ended, until the block ends."""
    name = connection.settings_dict["NAME"]
    # From another database: PostgreSQL will not close the doors of the database one is connected to.
    with _admin_connection("postgres") as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(sql.Identifier(name)))
        try:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND NOT (pid = ANY(%s))",
                [name, list(keep)],
            )
            yield
        finally:
            admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(sql.Identifier(name)))


class BackendKiller:
    """A thread that ends every other backend of the test database every `interval` seconds (sparing those
    in `keep`), as a database blinking again and again would."""

    def __init__(self, *, interval: float, keep: set[int]):
        self.interval, self.keep = interval, keep
        self.rounds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            terminate_backends(keep=self.keep)
            self.rounds += 1

    def __enter__(self) -> "BackendKiller":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)
