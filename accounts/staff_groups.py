"""The recommended staff groups: each a role's exact permissions (docs/security.md, "Staff permissions").

`staff_groups_sync` (run by `manage.py create_staff_groups`) creates the groups, or resets them to these
lists after an upgrade; other groups are left alone. Staff get rights by joining a group, never by
`is_staff` alone.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

_READ_LEARNERS = [
    "accounts.view_user",
    "courses.view_course",
    "courses.view_lesson",
    "enrollments.view_enrollment",
    "enrollments.view_lessoncompletion",
    "certificates.view_certificate",
    "notifications.view_notification",
]

STAFF_GROUPS: dict[str, list[str]] = {
    # Answers learners: reads their enrollments, certificates and mail; re-syncs progress, resends mail.
    "Support": [
        *_READ_LEARNERS,
        "enrollments.change_enrollment",
        "notifications.change_notification",
    ],
    # Writes and publishes courses and lessons; reads and recomputes their analytics; generates reports.
    "Course editor": [
        "courses.view_course",
        "courses.add_course",
        "courses.change_course",
        "courses.delete_course",
        "courses.view_lesson",
        "courses.add_lesson",
        "courses.change_lesson",
        "courses.delete_lesson",
        "enrollments.view_coursestats",
        "enrollments.recompute_coursestats",
        "reports.view_report",
        "reports.add_report",
    ],
    # Connects other systems: webhook endpoints (and their secrets), deliveries, bulk imports; reads every
    # enrollment and certificate, so a receiver can follow the links a webhook sends and sync a CRM.
    "Integrator": [
        "enrollments.view_enrollment",
        "certificates.view_certificate",
        "notifications.view_webhookendpoint",
        "notifications.add_webhookendpoint",
        "notifications.change_webhookendpoint",
        "notifications.delete_webhookendpoint",
        "notifications.view_webhookdelivery",
        "notifications.change_webhookdelivery",
        "notifications.view_webhookevent",
        "imports.view_importjob",
        "imports.add_importjob",
    ],
    # Keeps the background work running: jobs, retries, schedules, imports, failed certificates and mail.
    "Operator": [
        "jobs.view_job",
        "jobs.retry_job",
        "jobs.view_operations",
        "jobs.receive_alerts",
        "django_celery_results.view_taskresult",
        "django_celery_beat.view_periodictask",
        "django_celery_beat.change_periodictask",
        "imports.view_importjob",
        "imports.add_importjob",
        "imports.control_importjob",
        "enrollments.view_coursestats",
        "enrollments.recompute_coursestats",
        "certificates.view_certificate",
        "certificates.change_certificate",
        "notifications.view_notification",
        "notifications.change_notification",
        "notifications.view_webhookdelivery",
        "notifications.change_webhookdelivery",
        "reports.view_report",
        "reports.delete_report",
    ],
}


def _permissions(names: list[str]) -> list[Permission]:
    wanted = Q(pk__in=[])
    for name in names:
        app_label, codename = name.split(".")
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(wanted).select_related("content_type"))
    missing = set(names) - {f"{p.content_type.app_label}.{p.codename}" for p in found}
    if missing:
        raise LookupError(f"unknown permissions (are the migrations applied?): {', '.join(sorted(missing))}")
    return found


@transaction.atomic
def staff_groups_sync() -> list[Group]:
    """Create the recommended groups, or set their permissions back to exactly STAFF_GROUPS' lists.

    Side effects: writes auth groups and their permissions. Idempotent. Raises LookupError, writing
    nothing, if a listed permission does not exist.
    """
    groups = []
    for name, perms in STAFF_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(_permissions(perms))
        groups.append(group)
    return groups
