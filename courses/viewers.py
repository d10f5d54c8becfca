"""What a course shows the person looking at it: known to the apps above courses, asked for here.

courses sits below enrollments (courses <- enrollments <- certificates), so the course page and the course
API cannot ask whether the viewer is enrolled. The app that knows registers a `CourseViewer` in its
AppConfig.ready() (enrollments does: enrollments/course_viewer.py); the course views ask it. With none
registered, a course shows its syllabus to everyone, lesson bodies to no one, and nothing per viewer.
"""

from dataclasses import dataclass, field
from typing import Protocol

from django.http import HttpRequest

from courses.models import Course


@dataclass(frozen=True)
class CoursePage:
    """The viewer's part of a course page."""

    panel: str = ""  # HTML under the course's description (enroll, progress, continue); already escaped
    can_read: bool = False  # whether the syllabus links to the lessons
    completed_ids: frozenset[int] = field(default_factory=frozenset)  # lessons shown as done


class CourseViewer(Protocol):
    def page(self, *, request: HttpRequest, course: Course) -> CoursePage:
        """The viewer's part of the page of `course` (its `published_lessons` prefetched)."""

    def lesson_bodies_visible(self, *, user, course: Course) -> bool:
        """Whether `user` may read the bodies of the lessons of `course`."""


class _Nobody:
    def page(self, *, request: HttpRequest, course: Course) -> CoursePage:
        return CoursePage()

    def lesson_bodies_visible(self, *, user, course: Course) -> bool:
        return False


_viewer: CourseViewer = _Nobody()


def register(viewer: CourseViewer) -> None:
    """Make `viewer` the one the course views ask (called from an AppConfig.ready(); the last one wins)."""
    global _viewer  # the registry is this one slot, filled once at start-up
    _viewer = viewer


def course_page(*, request: HttpRequest, course: Course) -> CoursePage:
    return _viewer.page(request=request, course=course)


def lesson_bodies_visible(*, user, course: Course) -> bool:
    return _viewer.lesson_bodies_visible(user=user, course=course)
