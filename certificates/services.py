"""Writes for certificates: issue (idempotent), regenerate, revoke, retry.

The database decides, never an in-memory check: one row per enrollment (unique), and a row lock around
the step that writes the file and marks the certificate issued. The file name is fixed by the code, so
reruns and regenerations overwrite one file instead of leaving orphans.
"""

import hashlib
import logging

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from certificates import rendering
from certificates.models import Certificate
from certificates.signals import certificate_issued, certificate_revoked
from enrollments.models import Enrollment
from jobs.enqueue import enqueue

logger = logging.getLogger(__name__)


def _file_name(certificate: Certificate) -> str:
    return f"certificates/{certificate.code}.pdf"


def learner_certificate_name(learner) -> str:
    """The name a certificate is issued to: the learner's full name, never their email address ("" when
    they have given none yet)."""
    name = (learner.full_name or "").strip()
    return "" if name.lower() == (learner.email or "").lower() else name


def certificate_get_or_create_pending(*, enrollment: Enrollment) -> Certificate:
    """The enrollment's one certificate row, created pending with name and title snapshots."""
    existing = Certificate.objects.filter(enrollment=enrollment).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Certificate.objects.create(
                enrollment=enrollment,
                learner_name=learner_certificate_name(enrollment.learner),
                course_title=enrollment.course.title,
            )
    except IntegrityError:  # a concurrent duplicate created it first
        return Certificate.objects.get(enrollment=enrollment)


def _render_bytes(certificate: Certificate) -> bytes:
    return rendering.render_pdf(
        learner_name=certificate.learner_name,
        course_title=certificate.course_title,
        issued_on=certificate.issued_at or timezone.now(),
        display_code=certificate.display_code,
        verification_url=certificate.get_verification_url(),
    )


def _store(certificate: Certificate, content: bytes) -> None:
    """Write the PDF under its fixed name unless the stored file already has these exact bytes."""
    digest = hashlib.sha256(content).hexdigest()
    name = _file_name(certificate)
    storage = certificate.pdf.storage
    if certificate.pdf_sha256 == digest and certificate.pdf.name == name and storage.exists(name):
        return
    if storage.exists(name):
        storage.delete(name)
    certificate.pdf.name = storage.save(name, ContentFile(content))
    certificate.pdf_sha256 = digest


def _mark_failed(certificate_id: int, error: BaseException, task_id: str) -> None:
    Certificate.objects.filter(pk=certificate_id).exclude(status=Certificate.Status.ISSUED).exclude(
        status=Certificate.Status.REVOKED
    ).update(
        status=Certificate.Status.FAILED,
        last_error=f"{type(error).__name__}: {error}"[:2000],
        render_task_id=task_id,
        updated_at=timezone.now(),
    )


def certificate_issue(*, enrollment_id: int, task_id: str = "") -> Certificate | None:
    """Issue the certificate of a completed enrollment; returns it (None when not eligible).

    Side effects: one Certificate row, one PDF file in storage, `certificate_issued` sent once (at the
    first issue). A second delivery, a concurrent duplicate or a rerun after a crash finds the row and
    file it made. On a rendering error the row is marked failed with the error, and the error re-raised.
    A learner without a name gets no PDF: the row waits as "awaiting name" (not failed) until they give
    one, which queues this again (`certificate_issue_awaiting_name`).
    """
    enrollment = Enrollment.objects.select_related("learner", "course").filter(pk=enrollment_id).first()
    if enrollment is None:
        return None
    has_row = Certificate.objects.filter(enrollment=enrollment).exists()
    if enrollment.status != Enrollment.Status.COMPLETED and not has_row:
        return None  # re-opened before the task ran: nothing to certify yet
    certificate = certificate_get_or_create_pending(enrollment=enrollment)
    certificate = _claim_for_rendering(certificate.pk, learner_id=enrollment.learner_id, task_id=task_id)
    if certificate.status != Certificate.Status.RENDERING:
        return certificate  # issued or revoked already, or awaiting a name
    try:
        content = _render_bytes(certificate)
    except Exception as exc:
        _mark_failed(certificate.pk, exc, task_id)
        raise
    return _store_issued(certificate.pk, content)


def _claim_for_rendering(certificate_id: int, *, learner_id: int, task_id: str) -> Certificate:
    """Under the row's lock: mark it rendering (with the learner's name), or awaiting a name, or leave it."""
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate_id)
        if certificate.status in (Certificate.Status.ISSUED, Certificate.Status.REVOKED):
            return certificate
        if not certificate.learner_name:
            # Read now, under the lock: a name given since the enrollment was loaded counts.
            learner = get_user_model().objects.get(pk=learner_id)
            certificate.learner_name = learner_certificate_name(learner)
        if not certificate.learner_name:
            certificate.status = Certificate.Status.AWAITING_NAME
            certificate.render_task_id = task_id
            certificate.save(update_fields=["status", "render_task_id", "updated_at"])
            return certificate
        certificate.status = Certificate.Status.RENDERING
        certificate.render_task_id = task_id
        certificate.render_attempts += 1
        certificate.save(update_fields=["learner_name", "status", "render_task_id", "render_attempts", "updated_at"])
        return certificate


def _store_issued(certificate_id: int, content: bytes) -> Certificate:
    """Store the rendered PDF and mark the certificate issued; `certificate_issued` at the first issue."""
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate_id)
        if certificate.status in (Certificate.Status.ISSUED, Certificate.Status.REVOKED):
            return certificate  # a concurrent duplicate finished first; our bytes are simply dropped
        first_issue = certificate.issued_at is None
        certificate.issued_at = certificate.issued_at or timezone.now()
        _store(certificate, content)
        certificate.status = Certificate.Status.ISSUED
        certificate.template_version = rendering.template_version()
        certificate.last_error = ""
        certificate.save()
        if first_issue:
            certificate_issued.send(sender=Certificate, certificate_id=certificate.pk)
    return certificate


def certificate_regenerate(*, certificate_id: int, refresh_names: bool = False, task_id: str = "") -> Certificate:
    """Re-render an issued certificate keeping its code and issue date.

    With `refresh_names` the learner's current name and course title replace the snapshots (a corrected
    typo). The stored file and hash change only when the bytes change. Revoked certificates stay as
    they are; failed or pending ones go through the normal issue path.
    """
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().select_related(
            "enrollment__learner", "enrollment__course"
        )
        certificate = certificate.get(pk=certificate_id)
        if certificate.status == Certificate.Status.REVOKED:
            raise ValidationError("A revoked certificate cannot be regenerated.")
        if certificate.status != Certificate.Status.ISSUED:
            certificate_request_issue(enrollment_id=certificate.enrollment_id)
            return certificate
        if refresh_names:
            certificate.learner_name = (
                learner_certificate_name(certificate.enrollment.learner) or certificate.learner_name
            )
            certificate.course_title = certificate.enrollment.course.title
        _store(certificate, _render_bytes(certificate))
        certificate.template_version = rendering.template_version()
        certificate.render_task_id = task_id or certificate.render_task_id
        certificate.save()
    return certificate


def certificate_revoke(*, certificate: Certificate, reason: str, by=None) -> Certificate:
    """Revoke: the verification page and API say so from now on. Sends `certificate_revoked` once."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the certificate is revoked."})
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if certificate.status == Certificate.Status.REVOKED:
            return certificate
        certificate.status = Certificate.Status.REVOKED
        certificate.revoked_at = timezone.now()
        certificate.revoked_reason = reason
        certificate.revoked_by = by
        certificate.save()
        certificate_revoked.send(sender=Certificate, certificate_id=certificate.pk)
    return certificate


def certificate_request_issue(*, enrollment_id: int) -> None:
    from certificates.tasks import certificate_issue_task

    enqueue(certificate_issue_task, enrollment_id=enrollment_id)


def certificate_issue_awaiting_name(*, user_id: int) -> int:
    """Queue the issue of the learner's certificates that waited for their name; returns how many.

    Called (from a task) when the learner sets their name. Without a name yet it queues nothing.
    """
    waiting = Certificate.objects.filter(enrollment__learner_id=user_id, status=Certificate.Status.AWAITING_NAME)
    learner = get_user_model().objects.filter(pk=user_id).first()
    if learner is None or not learner_certificate_name(learner):
        return 0
    enrollment_ids = list(waiting.values_list("enrollment_id", flat=True))
    for enrollment_id in enrollment_ids:
        certificate_request_issue(enrollment_id=enrollment_id)
    return len(enrollment_ids)


def certificates_issue_named_waiting(*, limit: int = 500) -> int:
    """Queue the issue of certificates still awaiting a name whose learner has one by now; returns how many.

    The periodic safety net behind `certificate_issue_awaiting_name`: it catches a name given while the
    certificate was being marked "awaiting" (the learner's signal found nothing waiting yet) and names set
    where no signal is sent (the user admin). Issuing is idempotent, so a certificate queued twice is
    issued once.
    """
    waiting = (
        Certificate.objects.filter(status=Certificate.Status.AWAITING_NAME)
        .exclude(enrollment__learner__full_name="")
        .select_related("enrollment__learner")
        .order_by("pk")[:limit]
    )
    named = [c.enrollment_id for c in waiting if learner_certificate_name(c.enrollment.learner)]
    for enrollment_id in named:
        certificate_request_issue(enrollment_id=enrollment_id)
    return len(named)


def certificate_request_regenerate(*, certificate_id: int, refresh_names: bool = False) -> None:
    from certificates.tasks import certificate_regenerate_task

    enqueue(certificate_regenerate_task, certificate_id=certificate_id, refresh_names=refresh_names)


def certificate_regenerate_outdated(*, limit: int = 200) -> int:
    """Queue regeneration of issued certificates rendered with an older template; returns how many."""
    ids = list(
        Certificate.objects.filter(status=Certificate.Status.ISSUED)
        .exclude(template_version=rendering.template_version())
        .values_list("pk", flat=True)[:limit]
    )
    for certificate_id in ids:
        certificate_request_regenerate(certificate_id=certificate_id)
    return len(ids)
