"""enrollments' part of the course page and the course API, registered with courses.viewers in ready()."""

from django.http import HttpRequest
from django.template.loader import render_to_string

from courses.models import Course
from courses.viewers import CoursePage
from enrollments import selectors


class EnrollmentCourseViewer:
    """The viewer's enrollment decides: enroll button or progress and "Continue", lesson links, done marks."""

    def page(self, *, request: HttpRequest, course: Course) -> CoursePage:
        enrollment = selectors.enrollment_for_course(learner=request.user, course=course)
        done = selectors.completed_lesson_ids(enrollment=enrollment)
        next_lesson = next((lesson for lesson in course.published_lessons if lesson.pk not in done), None)
        panel = render_to_string(
            "enrollments/course_panel.html",
            {"course": course, "enrollment": enrollment, "next_lesson": next_lesson},
            request=request,
        )
        return CoursePage(
            panel=panel,
            can_read=selectors.lesson_content_visible(user=request.user, enrollment=enrollment),
            completed_ids=frozenset(done),
        )

    def lesson_bodies_visible(self, *, user, course: Course) -> bool:
        enrollment = selectors.enrollment_for_course(learner=user, course=course)
        return selectors.lesson_content_visible(user=user, enrollment=enrollment)
