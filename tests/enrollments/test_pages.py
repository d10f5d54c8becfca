"""Learner pages: visibility, privacy, and a dashboard whose queries do not grow with enrollments."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.markdown import render_markdown
from enrollments.models import LessonCompletion
from tests.courses.factories import CourseFactory, LessonFactory
from tests.enrollments.factories import EnrollmentFactory, LessonCompletionFactory
from tests.jobs.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_unpublished_course_and_lesson_pages_are_404(client):
    draft = CourseFactory(is_published=False)
    assert client.get(f"/courses/{draft.slug}/").status_code == 404
    lesson = LessonFactory(is_published=False)
    EnrollmentFactory(course=lesson.course, learner=UserFactory(email="a@example.com"))
    client.force_login(lesson.course.enrollments.get().learner)
    assert client.get(lesson.get_absolute_url()).status_code == 404


def test_course_page_offers_enroll_then_continue(client):
    lesson = LessonFactory()
    user = UserFactory()
    client.force_login(user)
    assert "Enroll</button>" in client.get(lesson.course.get_absolute_url()).content.decode()
    response = client.post(f"/courses/{lesson.course.slug}/enroll/", follow=True)
    assert "Continue</a>" in response.content.decode()


def test_anonymous_users_are_sent_to_log_in(client):
    lesson = LessonFactory()
    for url in ("/dashboard/", lesson.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    response = client.post(f"/lessons/{lesson.pk}/complete/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_mark_complete_on_the_page_records_completion_and_moves_on(client):
    first = LessonFactory(position=1)
    second = LessonFactory(course=first.course, position=2)
    enrollment = EnrollmentFactory(course=first.course)
    client.force_login(enrollment.learner)
    response = client.post(f"/lessons/{first.pk}/complete/")
    assert response.status_code == 302 and response["Location"] == second.get_absolute_url()
    assert LessonCompletion.objects.filter(enrollment=enrollment, lesson=first).exists()


def test_completing_a_lesson_of_another_course_is_404(client):
    mine = EnrollmentFactory()
    other_lesson = LessonFactory()
    client.force_login(mine.learner)
    assert client.post(f"/lessons/{other_lesson.pk}/complete/").status_code == 404


def test_dashboard_shows_only_own_enrollments(client):
    mine = EnrollmentFactory(course=CourseFactory(title="Mine"))
    EnrollmentFactory(course=CourseFactory(title="Theirs"))
    client.force_login(mine.learner)
    page = client.get("/dashboard/").content.decode()
    assert "Mine" in page and "Theirs" not in page


def test_dashboard_says_updating_until_the_sync_has_run(client):
    completion = LessonCompletionFactory()
    client.force_login(completion.enrollment.learner)
    assert 'data-updating="1"' in client.get("/dashboard/").content.decode()
    from enrollments.services import enrollment_sync_progress

    enrollment_sync_progress(enrollment_id=completion.enrollment_id)
    page = client.get("/dashboard/").content.decode()
    assert 'data-updating="1"' not in page and 'aria-valuenow="100"' in page


def _dashboard_queries(client, n: int) -> int:
    user = UserFactory()
    for _ in range(n):
        completion = LessonCompletionFactory(enrollment=EnrollmentFactory(learner=user))
        LessonFactory(course=completion.lesson.course)
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/dashboard/")
    assert response.status_code == 200 and response.content.decode().count('class="card enrollment"') == n
    return len(ctx.captured_queries)


def test_dashboard_with_50_enrollments_runs_the_same_queries_as_with_1(client):
    assert _dashboard_queries(client, 50) == _dashboard_queries(client, 1)


def test_enrollment_api_list_with_50_enrollments_runs_the_same_queries_as_with_1(api_client):
    def queries(n):
        user = UserFactory()
        EnrollmentFactory.create_batch(n, learner=user)
        api_client.force_authenticate(user)
        with CaptureQueriesContext(connection) as ctx:
            assert api_client.get("/api/enrollments/?page_size=100").status_code == 200
        return len(ctx.captured_queries)

    assert queries(50) == queries(1)


def test_lesson_markdown_is_rendered_and_sanitised():
    html = render_markdown(
        "# Title\n\n**bold** [ok](https://example.com) [bad](javascript:alert(1))\n\n<script>alert(1)</script>"
        '<img src=x onerror="alert(1)">'
    )
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html
    assert 'href="https://example.com"' in html
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html


def test_signup_form_errors_are_shown_not_500(client):
    UserFactory(email="taken@example.com")
    response = client.post(
        "/accounts/signup/", {"email": "taken@example.com", "password1": "a-long-pass-1", "password2": "a-long-pass-1"}
    )
    assert response.status_code == 200
    assert "An account with this email already exists." in response.content.decode()
    mismatch = client.post(
        "/accounts/signup/", {"email": "new@example.com", "password1": "a-long-pass-1", "password2": "other-pass-2"}
    )
    assert "The two passwords do not match." in mismatch.content.decode()


def test_signup_logs_in_and_profile_saves_full_name(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "zoe@example.com", "full_name": "Zoë", "password1": "a-long-pass-1", "password2": "a-long-pass-1"},
    )
    assert response.status_code == 302
    client.post("/accounts/profile/", {"full_name": "Zoë Łukasiewicz"})
    assert "Zoë Łukasiewicz" in client.get("/accounts/profile/").content.decode()
