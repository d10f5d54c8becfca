"""Alerts: a health check that turns to warning or error opens an incident, and staff with the permission
jobs.receive_alerts are emailed once when it opens and once when it is ok again, however often the checks run
meanwhile (every minute from beat, and from each outbox relay, so that a dead beat is still reported).
Sentry receives an event for each (a no-op without SENTRY_DSN).

The mail is sent directly (django.core.mail), not through the broker and a worker: an alert must reach staff
when the broker or every worker is what failed.
"""

import logging

import sentry_sdk
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from jobs.health import OK, SEVERITY, Check, health_checks
from jobs.models import HealthIncident

logger = logging.getLogger(__name__)


def alert_recipients() -> list[str]:
    """Emails of active staff holding jobs.receive_alerts (through a group or directly) and superusers."""
    perm = Permission.objects.filter(content_type__app_label="jobs", codename="receive_alerts").first()
    holders = Q(is_superuser=True)
    if perm is not None:
        holders |= Q(groups__permissions=perm) | Q(user_permissions=perm)
    users = get_user_model().objects.filter(holders, is_active=True, is_staff=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))


def health_alerts_run(*, checks: list[Check] | None = None) -> dict:
    """Run the checks; open an incident (and alert) for each bad one without an open incident, and resolve
    (and alert) each open incident whose check is ok again. Returns what it opened and resolved.

    Side effects: writes HealthIncident rows, sends email, sends Sentry events. Safe to run concurrently: at
    most one incident is open per check (a database constraint), and only the runner that opened or resolved
    it sends the mail.
    """
    checks = health_checks() if checks is None else checks
    open_incidents = {i.check_name: i for i in HealthIncident.objects.filter(resolved_at__isnull=True)}
    opened, resolved = [], []
    for check in checks:
        incident = open_incidents.get(check.name)
        if check.status != OK and incident is None:
            if _incident_open(check):
                opened.append(check.name)
        elif check.status != OK and SEVERITY[check.status] > SEVERITY.get(incident.status, 0):
            HealthIncident.objects.filter(pk=incident.pk).update(
                status=check.status, figure=check.figure[:200], message=check.message
            )
        elif check.status == OK and incident is not None and _incident_resolve(incident, check):
            resolved.append(check.name)
    return {"opened": opened, "resolved": resolved}


def _incident_open(check: Check) -> bool:
    try:
        with transaction.atomic():
            HealthIncident.objects.create(
                check_name=check.name,
                status=check.status,
                figure=check.figure[:200],
                message=check.message,
                opened_at=timezone.now(),
            )
    except IntegrityError:  # another runner opened it first, and alerts
        return False
    subject = f"[LMS {check.status}] {check.name}: {check.figure}"
    _notify(subject, f"{check.message}\n\nOperations page: {_operations_url()}", level=check.status)
    return True


def _incident_resolve(incident: HealthIncident, check: Check) -> bool:
    now = timezone.now()
    if not HealthIncident.objects.filter(pk=incident.pk, resolved_at__isnull=True).update(resolved_at=now):
        return False  # resolved by another runner
    lasted = int((now - incident.opened_at).total_seconds())
    subject = f"[LMS resolved] {check.name}: {check.figure}"
    since = f"{incident.status} since {incident.opened_at:%Y-%m-%d %H:%M:%S} UTC"
    body = f"{check.name} is ok again after {lasted // 60} min {lasted % 60} s ({since}): {check.figure}."
    _notify(subject, body, level="info")
    return True


def _notify(subject: str, body: str, *, level: str) -> None:
    sentry_sdk.capture_message(subject, level=level)
    recipients = alert_recipients()
    if not recipients:
        logger.warning("health alert with nobody to email (grant jobs.receive_alerts): %s", subject)
        return
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:  # the incident is recorded and shown on the page; the mail is not retried
        logger.exception("health alert could not be emailed: %s", subject)


def _operations_url() -> str:
    return f"{settings.SITE_URL.rstrip('/')}/admin/jobs/job/operations/"
