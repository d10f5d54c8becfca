"""Certificate tasks, on the `pdf` queue (routed by name): load by id, call one service."""

from celery import shared_task

from certificates import services
from jobs.options import RETRY_ON_DB_ERRORS
from jobs.schedules import periodic


@shared_task(
    bind=True,
    name="certificates.issue_certificate",
    queue="pdf",
    soft_time_limit=60,
    time_limit=90,
    **RETRY_ON_DB_ERRORS,
)
def certificate_issue_task(self, enrollment_id: int) -> dict | None:
    certificate = services.certificate_issue(enrollment_id=enrollment_id, task_id=self.request.id or "")
    if certificate is None:
        return None
    return {"certificate_id": certificate.pk, "status": certificate.status, "sha256": certificate.pdf_sha256}


@shared_task(
    name="certificates.issue_awaiting_name", queue="pdf", soft_time_limit=30, time_limit=60, **RETRY_ON_DB_ERRORS
)
def certificate_issue_awaiting_name_task(user_id: int) -> int:
    """The learner gave their name: queue the certificates that waited for it."""
    return services.certificate_issue_awaiting_name(user_id=user_id)


@periodic("Issue certificates whose learner has given a name", every_seconds=300)
@shared_task(
    name="certificates.issue_named_waiting", queue="pdf", soft_time_limit=50, time_limit=60, ignore_result=True
)
def certificates_issue_named_waiting_task() -> int:
    """Periodic: issue certificates that still wait for a name their learner has given meanwhile."""
    return services.certificates_issue_named_waiting()


@shared_task(
    bind=True, name="certificates.regenerate_certificate", queue="pdf", soft_time_limit=60, time_limit=90, max_retries=3
)
def certificate_regenerate_task(self, certificate_id: int, refresh_names: bool = False) -> dict:
    certificate = services.certificate_regenerate(
        certificate_id=certificate_id, refresh_names=refresh_names, task_id=self.request.id or ""
    )
    return {"certificate_id": certificate.pk, "status": certificate.status, "sha256": certificate.pdf_sha256}


@periodic("Regenerate certificates after a template change", crontab={"minute": "45", "hour": "*"})
@shared_task(name="certificates.regenerate_outdated", queue="pdf", soft_time_limit=30, time_limit=60)
def certificate_regenerate_outdated_task() -> int:
    """Periodic: re-render certificates whose template changed since they were issued."""
    return services.certificate_regenerate_outdated()
