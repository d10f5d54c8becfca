"""Reactions to other apps' domain signals: each only enqueues work (after commit)."""

from courses.signals import course_lessons_changed


def _on_course_lessons_changed(sender, *, course_id: int, **kwargs) -> None:
    from enrollments.services import course_request_progress_recompute

    course_request_progress_recompute(course_id=course_id)


def connect() -> None:
    course_lessons_changed.connect(_on_course_lessons_changed, dispatch_uid="enrollments.course_lessons_changed")
