"""A report's rows as the worker reads them: streamed from a connection of their own on PostgreSQL
(committed data, outside a transaction), the same rows as Django's iterator gives, times in the site's
zone formatted by the database on PostgreSQL and SQLite alike."""

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from enrollments.models import Enrollment
from reports import selectors, streaming
from reports.expressions import LocalTime
from tests.certificates.factories import CertificateFactory
from tests.conftest import is_postgres
from tests.courses.factories import CourseFactory, LessonFactory
from tests.enrollments.factories import EnrollmentFactory, LessonCompletionFactory
from tests.jobs.factories import UserFactory


def _course():
    course = CourseFactory(slug="stream-101")
    lessons = [LessonFactory(course=course, is_published=True, position=i) for i in range(3)]
    for i in range(7):
        enrollment = EnrollmentFactory(course=course, learner=UserFactory(email=f"l{i}@example.org"))
        for lesson in lessons[: i % 4]:
            LessonCompletionFactory(enrollment=enrollment, lesson=lesson)
    CertificateFactory(enrollment__course=course, status="issued", issued_at=timezone.now(), pdf_sha256="0" * 64)
    return course


def _backends() -> set[int]:
    """The pids of this database's client connections (a set, not a count: a worker started by another
    test may connect or leave meanwhile)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'"
        )
        return {pid for (pid,) in cursor.fetchall()}


@pytest.mark.skipif(not is_postgres(), reason="the streamed path is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_every_report_streams_the_rows_the_iterator_gives_from_a_connection_it_closes():
    course = _course()
    before = _backends()
    tables = {
        "course_progress": lambda: selectors.course_progress(course_id=course.pk),
        "lesson_completion": lambda: selectors.lesson_completion(course_id=course.pk),
        "certificates_issued": lambda: selectors.certificates_issued(
            course_id=None, period_start=None, period_end=None
        ),
    }
    for name, table in tables.items():
        streamed = list(table().rows)
        with transaction.atomic():  # inside a transaction: Django's iterator on the test's connection
            iterated = list(table().rows)
        assert streamed == iterated and streamed, name
    assert len(list(tables["course_progress"]().rows)) == 8

    rows = Enrollment.objects.filter(course=course).order_by("pk").values_list("pk", LocalTime("enrolled_at"))
    assert streaming._plain_sql(rows) is not None  # the test would otherwise compare the iterator with itself
    early = streaming.stream_rows(rows, chunk=2)
    next(early)
    readers = {pid for pid in _backends() - before if "enrollments_enrollment" in _query_of(pid)}
    assert len(readers) == 1  # the reader's own connection
    early.close()  # a cancelled report stops reading
    assert not readers & _backends()


def _query_of(pid: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(query, '') FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row[0] if row else ""


@pytest.mark.django_db
@override_settings(TIME_ZONE="America/New_York")
def test_times_are_the_site_zones_text_to_the_second_from_the_database():
    enrolled_at = datetime(2026, 7, 4, 16, 5, 9, 750_000, tzinfo=UTC)  # 12:05:09 in New York (EDT)
    enrollment = EnrollmentFactory()
    Enrollment.objects.filter(pk=enrollment.pk).update(enrolled_at=enrolled_at)

    text = Enrollment.objects.filter(pk=enrollment.pk).values_list(LocalTime("enrolled_at"), flat=True).get()

    assert text == "2026-07-04 12:05:09"
    assert Enrollment.objects.filter(pk=enrollment.pk).values_list(LocalTime("completed_at"), flat=True).get() is None
