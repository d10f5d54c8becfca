"""Reactions to enrollment signals: each only enqueues certificate work (after commit)."""

from accounts.signals import user_name_changed
from enrollments.signals import enrollment_completed


def _on_enrollment_completed(sender, *, enrollment_id: int, **kwargs) -> None:
    from certificates.tasks import certificate_issue_task
    from jobs.enqueue import enqueue

    enqueue(certificate_issue_task, enrollment_id=enrollment_id)


def _on_user_name_changed(sender, *, user_id: int, **kwargs) -> None:
    from certificates.tasks import certificate_issue_awaiting_name_task
    from jobs.enqueue import enqueue

    enqueue(certificate_issue_awaiting_name_task, user_id=user_id)


def connect() -> None:
    user_name_changed.connect(_on_user_name_changed, dispatch_uid="certificates.user_name_changed")
    enrollment_completed.connect(_on_enrollment_completed, dispatch_uid="certificates.enrollment_completed")
