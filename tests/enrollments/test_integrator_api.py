"""Integrator access: a service account holding only `enrollments.view_enrollment` and
`certificates.view_certificate` (not staff) reads every enrollment and certificate, filters the lists, and
syncs incrementally with `updated_since` in a stable (updated_at, id) order (docs/api.md, "Integrations").
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from certificates.models import Certificate
from enrollments import services
from enrollments.models import Enrollment
from tests.certificates.factories import CertificateFactory
from tests.courses.factories import CourseFactory, LessonFactory
from tests.enrollments.factories import EnrollmentFactory, LessonCompletionFactory
from tests.jobs.factories import UserFactory, grant
from tests.utils import field_errors

pytestmark = pytest.mark.django_db

INTEGRATOR_PERMS = ("enrollments.view_enrollment", "certificates.view_certificate")


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def integrator(db) -> APIClient:
    return token_client(grant(UserFactory(email="crm@example.com"), *INTEGRATOR_PERMS))


def _cancel(enrollment: Enrollment) -> None:
    """Cancel as staff do in the admin (the status is editable there): load the row, change it, save it."""
    row = Enrollment.objects.get(pk=enrollment.pk)
    row.status = Enrollment.Status.CANCELLED
    row.save()


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_an_integrator_reads_every_learner_s_enrollment_and_certificate(integrator):
    certificates = [CertificateFactory(), CertificateFactory()]
    enrollments = [c.enrollment for c in certificates]

    listed = integrator.get("/api/enrollments/").json()["results"]
    assert sorted(row["id"] for row in listed) == sorted(e.pk for e in enrollments)
    for enrollment in enrollments:
        body = integrator.get(f"/api/enrollments/{enrollment.pk}/").json()
        assert body["learner_email"] == enrollment.learner.email
        assert body["course"] == enrollment.course.slug
        assert body["url"] == f"http://testserver/api/enrollments/{enrollment.pk}/"
    for certificate in certificates:
        body = integrator.get(f"/api/certificates/{certificate.pk}/").json()
        assert body["learner_email"] == certificate.enrollment.learner.email
        assert body["enrollment_url"] == f"http://testserver/api/enrollments/{certificate.enrollment_id}/"
    assert sorted(ids(integrator.get("/api/certificates/"))) == sorted(c.pk for c in certificates)


def test_a_member_of_the_integrator_group_follows_a_webhook_s_enrollment_link_without_being_staff():
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    call_command("create_staff_groups")
    certificate = CertificateFactory()
    member = UserFactory(email="crm@example.com")
    member.groups.add(Group.objects.get(name="Integrator"))
    client = token_client(member)
    assert client.get(f"/api/enrollments/{certificate.enrollment_id}/").status_code == 200
    assert client.get(f"/api/certificates/{certificate.pk}/").status_code == 200


@pytest.mark.parametrize(
    ("perm", "url"),
    [("enrollments.view_enrollment", "/api/enrollments/"), ("certificates.view_certificate", "/api/certificates/")],
)
def test_each_list_needs_its_own_view_permission(perm, url):
    certificate = CertificateFactory()
    other = "/api/certificates/" if url == "/api/enrollments/" else "/api/enrollments/"
    client = token_client(grant(UserFactory(), perm))
    assert len(ids(client.get(url))) == 1
    assert ids(client.get(other)) == []
    other_id = certificate.enrollment_id if other == "/api/enrollments/" else certificate.pk
    assert client.get(f"{other}{other_id}/").status_code == 404


def test_staff_without_the_view_permission_see_only_their_own():
    EnrollmentFactory()
    staff = UserFactory(is_staff=True)
    own = EnrollmentFactory(learner=staff)
    client = token_client(staff)
    assert ids(client.get("/api/enrollments/")) == [own.pk]


@pytest.fixture
def two_courses(db):
    python = CourseFactory(slug="python-basics")
    cooking = CourseFactory(slug="cooking")
    ann = UserFactory(email="ann@example.com")
    bob = UserFactory(email="bob@example.com")
    return {
        "ann_python": EnrollmentFactory(learner=ann, course=python),
        "ann_cooking": EnrollmentFactory(learner=ann, course=cooking, status="cancelled"),
        "bob_python": EnrollmentFactory(learner=bob, course=python, status="completed", completed_at=timezone.now()),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("course=python-basics", {"ann_python", "bob_python"}),
        ("course={python_id}", {"ann_python", "bob_python"}),
        ("learner=ANN@example.com", {"ann_python", "ann_cooking"}),
        ("learner={bob_id}", {"bob_python"}),
        ("status=cancelled", {"ann_cooking"}),
        ("course=python-basics&status=active", {"ann_python"}),
        ("course=no-such-course", set()),
        ("learner=nobody@example.com", set()),
    ],
)
def test_enrollments_filter_by_course_learner_and_status(integrator, two_courses, query, expected):
    query = query.format(
        python_id=two_courses["ann_python"].course_id, bob_id=two_courses["bob_python"].learner_id
    ).replace("@", "%40")
    by_id = {e.pk: name for name, e in two_courses.items()}
    assert {by_id[pk] for pk in ids(integrator.get(f"/api/enrollments/?{query}"))} == expected


def test_certificates_filter_by_course_learner_and_status(integrator):
    issued = CertificateFactory(enrollment__course__slug="python-basics", enrollment__learner__email="ann@example.com")
    other = CertificateFactory(status=Certificate.Status.FAILED)
    assert ids(integrator.get("/api/certificates/?course=python-basics")) == [issued.pk]
    assert ids(integrator.get(f"/api/certificates/?course={other.enrollment.course_id}")) == [other.pk]
    assert ids(integrator.get("/api/certificates/?learner=ann%40example.com")) == [issued.pk]
    assert ids(integrator.get(f"/api/certificates/?learner={other.enrollment.learner_id}")) == [other.pk]
    assert ids(integrator.get("/api/certificates/?status=failed")) == [other.pk]


@pytest.mark.parametrize("url", ["/api/enrollments/", "/api/certificates/"])
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("updated_since=yesterday", "updated_since"),
        ("updated_since=2026-13-45T00:00:00Z", "updated_since"),
        ("updated_since=0001-01-01T00:00:00%2B14:00", "updated_since"),  # no UTC time
        ("learner=not-an-email", "learner"),
        ("learner=0", "learner"),
        ("learner=%C2%B2", "learner"),  # a digit to str.isdigit(), not to int()
        ("course=%C2%B2", "course"),
        ("learner=99999999999999999999999", "learner"),
        ("course=not%20a%20slug", "course"),
        ("course=99999999999999999999999", "course"),
        ("status=finished", "status"),
        ("after_id=abc&updated_since=2026-01-01T00:00:00Z", "after_id"),
        ("after_id=5", "after_id"),
    ],
)
def test_bad_filter_values_are_a_400_naming_the_parameter(integrator, url, query, field):
    response = integrator.get(f"{url}?{query}")
    assert response.status_code == 400
    errors = field_errors(response)
    assert list(errors) == [field] and errors[field] and all(isinstance(m, str) for m in errors[field])


def _sync(client, url: str, since: str, page_size: int) -> tuple[list[int], int]:
    """Follow `next` from `?updated_since=` to the end: the ids in order and the number of requests."""
    response = client.get(url, {"updated_since": since, "page_size": page_size})
    seen, requests = [], 1
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        assert body["previous"] is None
        if body["next"] is None:
            return seen, requests
        response = client.get(body["next"])
        requests += 1


def test_a_sync_pages_through_many_rows_written_in_the_same_instant_each_once_in_order(integrator):
    rows = [EnrollmentFactory() for _ in range(7)]
    instant = timezone.now().replace(microsecond=123456)
    Enrollment.objects.filter(pk__in=[e.pk for e in rows[2:]]).update(updated_at=instant)  # 5 rows tied
    Enrollment.objects.filter(pk__in=[e.pk for e in rows[:2]]).update(updated_at=instant - timedelta(days=1))

    seen, requests = _sync(integrator, "/api/enrollments/", instant.isoformat(), page_size=2)
    assert seen == [e.pk for e in rows[2:]]
    assert requests == 3


def test_a_row_written_during_a_sync_comes_at_the_end_and_no_row_is_skipped(integrator):
    rows = [EnrollmentFactory() for _ in range(4)]
    start = timezone.now() - timedelta(hours=1)
    for minutes, enrollment in enumerate(rows):
        Enrollment.objects.filter(pk=enrollment.pk).update(updated_at=start + timedelta(minutes=minutes))

    first = integrator.get("/api/enrollments/", {"updated_since": start.isoformat(), "page_size": 2}).json()
    assert [row["id"] for row in first["results"]] == [rows[0].pk, rows[1].pk]
    _cancel(rows[0])  # read already; written again
    rest = integrator.get(first["next"]).json()
    rest_ids = [row["id"] for row in rest["results"]]
    if rest["next"]:
        rest_ids += [row["id"] for row in integrator.get(rest["next"]).json()["results"]]
    assert rest_ids == [rows[2].pk, rows[3].pk, rows[0].pk]


def test_updated_since_alone_is_inclusive_so_the_last_row_seen_comes_again(integrator):
    enrollment = EnrollmentFactory()
    stamp = integrator.get(f"/api/enrollments/{enrollment.pk}/").json()["updated_at"]
    assert ids(integrator.get("/api/enrollments/", {"updated_since": stamp})) == [enrollment.pk]


def test_an_empty_updated_since_is_the_ordinary_paged_list(integrator):
    rows = [EnrollmentFactory() for _ in range(3)]
    body = integrator.get("/api/enrollments/?updated_since=&page_size=2").json()
    assert [row["id"] for row in body["results"]] == [rows[2].pk, rows[1].pk]  # newest first
    assert body["next"].endswith("page=2&page_size=2&updated_since=") and body["count"] == 3


def test_every_write_path_moves_updated_at_so_a_sync_sees_it(integrator):
    """Enrolling, completing a lesson (the progress sync's SQL), a course-wide recompute (bulk update),
    cancelling (in the admin), an import (bulk create) and issuing a certificate each bring the row into
    the next sync."""
    from certificates import services as certificate_services

    course = CourseFactory()
    lesson = LessonFactory(course=course)
    learner = UserFactory()

    def changed(since: str) -> tuple[list[int], list[int]]:
        query = {"updated_since": since}
        return ids(integrator.get("/api/enrollments/", query)), ids(integrator.get("/api/certificates/", query))

    def mark() -> str:
        return timezone.now().isoformat()

    since = mark()
    enrollment, _ = services.enrollment_create(learner=learner, course=course)
    assert changed(since) == ([enrollment.pk], [])

    since = mark()
    services.lesson_complete(learner=learner, lesson_id=lesson.pk)
    services.enrollment_sync_progress(enrollment_id=enrollment.pk)
    assert changed(since) == ([enrollment.pk], [])

    since = mark()
    certificate = certificate_services.certificate_issue(enrollment_id=enrollment.pk)
    assert changed(since)[1] == [certificate.pk]

    since = mark()
    LessonFactory(course=course)  # a new lesson: the recompute re-opens the enrollment
    services.course_recompute_progress(course_id=course.pk)
    assert changed(since)[0] == [enrollment.pk]
    assert integrator.get(f"/api/enrollments/{enrollment.pk}/").json()["status"] == "active"

    since = mark()
    _cancel(enrollment)
    assert changed(since)[0] == [enrollment.pk]


def test_a_course_recompute_that_changes_only_progress_moves_updated_at(integrator):
    course = CourseFactory()
    first, _second = LessonFactory(course=course), LessonFactory(course=course)
    enrollment = EnrollmentFactory(course=course)
    LessonCompletionFactory(enrollment=enrollment, lesson=first)
    since = timezone.now().isoformat()

    services.course_recompute_progress(course_id=course.pk)

    rows = integrator.get("/api/enrollments/", {"updated_since": since}).json()["results"]
    assert [(row["id"], row["progress_percent"], row["status"]) for row in rows] == [(enrollment.pk, 50, "active")]


@pytest.mark.parametrize("url", ["/api/enrollments/", "/api/certificates/"])
def test_a_list_page_costs_the_same_few_queries_however_many_rows(integrator, url, django_assert_max_num_queries):
    for _ in range(3):
        certificate = CertificateFactory()
        LessonCompletionFactory(enrollment=certificate.enrollment)
    with django_assert_max_num_queries(6) as few:
        assert len(ids(integrator.get(url, {"page_size": 3}))) == 3
    for _ in range(20):
        certificate = CertificateFactory()
        LessonCompletionFactory(enrollment=certificate.enrollment)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(ids(integrator.get(url, {"page_size": 23, "updated_since": "2000-01-01T00:00:00Z"}))) == 23


def test_the_api_counts_lessons_as_the_learner_s_dashboard_does(integrator, api_client):
    from enrollments.selectors import enrollment_list_for_learner

    certificate = CertificateFactory()
    enrollment = certificate.enrollment
    LessonCompletionFactory(enrollment=enrollment)
    LessonCompletionFactory(enrollment=enrollment, lesson__is_published=False)  # not counted
    dashboard = enrollment_list_for_learner(learner=enrollment.learner).get()
    api_client.force_login(enrollment.learner)
    own = api_client.get("/api/enrollments/").json()["results"][0]
    theirs = integrator.get(f"/api/enrollments/?learner={enrollment.learner_id}").json()["results"][0]
    assert own == theirs
    assert theirs["lessons_completed"] == dashboard.lessons_completed == 1
    assert theirs["last_completed_at"].replace("Z", "+00:00") == dashboard.last_completed_at.isoformat()
    assert theirs["certificate_url"] == f"http://testserver/api/certificates/{certificate.pk}/"
