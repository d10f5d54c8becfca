"""jobs.db.prepared_cursor: the worker's hot statements are planned once per connection on PostgreSQL, and
stay visible to Django's query logging."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from enrollments.services import enrollment_sync_progress
from jobs.db import prepared_cursor
from tests.conftest import is_postgres
from tests.enrollments.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_the_progress_sync_is_prepared_once_and_still_logged():
    if not is_postgres():
        pytest.skip("prepared statements are PostgreSQL's; SQLite uses the ordinary cursor")
    enrollment = EnrollmentFactory()
    before = _prepared_statements()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            enrollment_sync_progress(enrollment_id=enrollment.pk)
    added = [s for s in _prepared_statements() if s not in before]
    assert len(added) == 1 and "progress_percent" in added[0]
    logged = [q["sql"] for q in queries.captured_queries if "progress_percent" in q["sql"]]
    # Logged with its values, as Django logs the statements it binds itself.
    assert len(logged) == 3 and all(f"e0.id = {enrollment.pk}" in sql for sql in logged)


def test_prepared_statements_can_be_switched_off(settings):
    if not is_postgres():
        pytest.skip("prepared statements are PostgreSQL's")
    settings.DATABASE_PREPARED_STATEMENTS = False
    before = _prepared_statements()
    with prepared_cursor(connection) as cursor:
        for _ in range(2):
            cursor.execute("SELECT %s::int + 1", [41])
            assert cursor.fetchone() == (42,)
    assert _prepared_statements() == before


def test_a_prepared_cursor_runs_in_the_callers_transaction():
    enrollment = EnrollmentFactory(progress_percent=0)
    table = connection.ops.quote_name(enrollment._meta.db_table)
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        with prepared_cursor(connection) as cursor:
            cursor.execute(f"UPDATE {table} SET progress_percent = %s WHERE id = %s", [50, enrollment.pk])
        1 / 0  # noqa: B018 - the rollback under test
    enrollment.refresh_from_db()
    assert enrollment.progress_percent == 0
