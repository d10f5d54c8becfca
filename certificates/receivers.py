"""Reactions to enrollment signals: each only enqueues certificate work (after commit)."""

from enrollments.signals import enrollment_completed


def _on_enrollment_completed(sender, *, enrollment_id: int, **kwargs) -> None:
    from certificates.tasks import certificate_issue_task
    from lms.tasks import enqueue

    enqueue(certificate_issue_task, enrollment_id=enrollment_id)


def connect() -> None:
    enrollment_completed.connect(_on_enrollment_completed, dispatch_uid="certificates.enrollment_completed")
