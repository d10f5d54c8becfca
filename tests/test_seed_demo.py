"""seed_demo: idempotent demo data for `make run`, refused outside DEBUG."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from courses.models import Course, Lesson
from enrollments.models import Enrollment, LessonCompletion

pytestmark = pytest.mark.django_db


@pytest.fixture
def debug(settings):
    settings.DEBUG = True
    return settings


def _counts() -> dict[str, int]:
    return {
        "users": get_user_model().objects.count(),
        "courses": Course.objects.count(),
        "lessons": Lesson.objects.count(),
        "enrollments": Enrollment.objects.count(),
        "completions": LessonCompletion.objects.count(),
    }


def test_seed_demo_creates_a_staff_superuser_who_can_log_in(debug):
    call_command("seed_demo")
    staff = get_user_model().objects.get(email="staff@example.com")
    assert staff.is_staff and staff.is_superuser
    assert staff.check_password("demo-staff-pass-2024")


def test_seed_demo_creates_three_learners(debug):
    call_command("seed_demo")
    learners = get_user_model().objects.filter(is_staff=False)
    assert learners.count() == 3
    assert {"ada@example.com", "grace@example.com", "alan@example.com"} == set(learners.values_list("email", flat=True))


def test_seed_demo_creates_three_published_courses_with_rendered_lessons(debug):
    call_command("seed_demo")
    courses = Course.objects.published()
    assert courses.count() == 3
    for course in courses:
        lessons = course.lessons.published()
        assert 3 <= lessons.count() <= 6
        assert all(lesson.body_html.strip() for lesson in lessons)


def test_seed_demo_enrolls_one_learner_with_a_completed_lesson(debug):
    call_command("seed_demo")
    enrollment = Enrollment.objects.get()
    assert enrollment.learner.email == "ada@example.com"
    assert enrollment.completions.count() == 1


def test_second_run_of_seed_demo_creates_nothing_new(debug, capsys):
    call_command("seed_demo")
    before = _counts()
    call_command("seed_demo")
    assert _counts() == before
    assert "Created 0," in capsys.readouterr().out


def test_seed_demo_refuses_to_run_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")
    assert not get_user_model().objects.exists()


def test_seed_demo_runs_without_debug_when_forced(settings):
    settings.DEBUG = False
    call_command("seed_demo", force=True)
    assert Course.objects.count() == 3
