"""The catalog and the course page and API: public content from courses, the viewer's part from the app
registered with courses.viewers (enrollments), and courses importing none of the apps above it."""

import ast
from pathlib import Path

import pytest

from courses import viewers
from tests.courses.factories import CourseFactory, LessonFactory
from tests.jobs.factories import UserFactory

pytestmark = pytest.mark.django_db

COURSES = Path(__file__).resolve().parents[2] / "courses"
ABOVE_COURSES = {"enrollments", "certificates", "notifications"}


@pytest.fixture
def no_viewer():
    """courses on its own: no app has registered a viewer."""
    registered = viewers._viewer
    viewers.register(viewers._Nobody())
    yield
    viewers.register(registered)


def test_catalog_lists_published_courses_only(client):
    CourseFactory(title="Visible course")
    CourseFactory(title="Draft course", is_published=False)
    page = client.get("/courses/").content.decode()
    assert "Visible course" in page and "Draft course" not in page


def test_course_list_and_detail_show_only_published_content(api_client):
    course = CourseFactory(slug="visible")
    LessonFactory(course=course, slug="shown")
    LessonFactory(course=course, slug="draft", is_published=False)
    CourseFactory(slug="hidden", is_published=False)

    listing = api_client.get("/api/courses/").json()
    assert [c["slug"] for c in listing["results"]] == ["visible"]
    assert listing["results"][0]["lesson_count"] == 1
    detail = api_client.get("/api/courses/visible/").json()
    assert [lesson["slug"] for lesson in detail["lessons"]] == ["shown"]
    assert api_client.get("/api/courses/hidden/").status_code == 404


def test_the_course_page_shows_the_panel_of_the_registered_viewer(client):
    course = CourseFactory(description="All about knives.")
    client.force_login(UserFactory())
    page = client.get(course.get_absolute_url()).content.decode()
    assert "All about knives." in page and "Enroll</button>" in page


def test_without_a_registered_viewer_the_course_page_is_the_public_syllabus(client, api_client, no_viewer):
    lesson = LessonFactory(title="Onions", body="Chop the onion finely.")
    client.force_login(UserFactory())

    page = client.get(lesson.course.get_absolute_url()).content.decode()
    body = api_client.get(f"/api/courses/{lesson.course.slug}/").json()

    assert "Onions" in page and "Enroll" not in page and f'href="{lesson.get_absolute_url()}"' not in page
    assert [item["body_html"] for item in body["lessons"]] == [None]


def test_courses_imports_none_of_the_apps_above_it():
    """courses <- enrollments <- certificates: courses learns about viewers only through courses.viewers."""
    found = []
    for path in COURSES.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            found += [f"{path.relative_to(COURSES.parent)}: {n}" for n in names if n.split(".")[0] in ABOVE_COURSES]
    assert found == []
