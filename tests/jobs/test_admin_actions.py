"""Every admin action declares the permission it needs, and the admin enforces it.

One row per action: posting the action form as view-only staff changes nothing; with exactly the row's
permissions it does what it says. A new action fails `test_every_admin_action_has_a_row_and_a_permission`
until it gets a row here.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from django_celery_results.models import TaskResult

from enrollments import services as enrollment_services
from enrollments.models import CourseStats
from jobs.models import Job
from notifications.models import Notification, WebhookDelivery
from tests.certificates.factories import CertificateFactory
from tests.courses.factories import CourseFactory
from tests.enrollments.factories import EnrollmentFactory
from tests.imports.test_imports import start
from tests.jobs.factories import grant, staff_with
from tests.notifications.factories_webhooks import WebhookDeliveryFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db


def jobs_queued(obj) -> int:
    return Job.objects.count()


def _course_stats():
    course = CourseFactory()
    enrollment_services.course_stats_recompute(course_id=course.pk)
    return CourseStats.objects.get(course=course)


def _failed_job():
    job = Job.objects.create(task_name="lms.ping", kwargs={}, queue="default", publish_state="published")
    TaskResult.objects.create(task_id=job.task_id, task_name="lms.ping", status="FAILURE")
    return job


def _periodic_task(enabled: bool = True):
    every = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.DAYS)
    return PeriodicTask.objects.create(name="nightly", task="not.a.registered.task", interval=every, enabled=enabled)


def _notification():
    return Notification.objects.create(
        kind="welcome", dedupe_key="welcome:1", recipient="a@example.com", status="failed"
    )


def _import():
    return start(b"email,full_name,course\nann@example.org,Ann,python-101\n")


def _issued_certificate():
    return CertificateFactory(status="issued", pdf="certificates/a.pdf", pdf_sha256="0" * 64, issued_at=timezone.now())


def _fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


@dataclass(frozen=True)
class Action:
    model: str  # app_label.model_name
    name: str
    perms: tuple[str, ...]  # exactly what it needs: the action's permission, and viewing the list
    make: Callable  # the selected object
    state: Callable | None  # what the action changes (None: nothing a test can see without a broker)
    extra: dict = field(default_factory=dict)  # more of the action form (an intermediate page's fields)

    def __str__(self) -> str:
        return f"{self.model}.{self.name}"


ACTIONS = [
    Action("courses.course", "publish", ("courses.change_course",), lambda: CourseFactory(is_published=False),
           lambda c: _fresh(c).is_published),
    Action("courses.course", "unpublish", ("courses.change_course",), CourseFactory, lambda c: _fresh(c).is_published),
    Action("enrollments.enrollment", "sync_progress", ("enrollments.change_enrollment",), EnrollmentFactory,
           jobs_queued),
    Action("enrollments.coursestats", "recompute",
           ("enrollments.view_coursestats", "enrollments.recompute_coursestats"), _course_stats, jobs_queued),
    Action("imports.importjob", "cancel", ("imports.view_importjob", "imports.control_importjob"),
           _import, lambda j: _fresh(j).cancel_requested_at),
    Action("imports.importjob", "resume", ("imports.view_importjob", "imports.control_importjob"),
           _import, jobs_queued),
    Action("jobs.job", "retry_jobs", ("jobs.view_job", "jobs.retry_job"), _failed_job,
           lambda j: Job.objects.filter(retry_of=j).count()),
    Action("jobs.job", "requeue_dead_letters", ("jobs.view_job", "jobs.retry_job"),
           lambda: Job.objects.create(task_name="lms.ping", kwargs={}, queue="default", publish_state="dead"),
           lambda j: _fresh(j).publish_state),
    Action("jobs.job", "publish_lost_again", ("jobs.view_job", "jobs.retry_job"),
           lambda: Job.objects.create(task_name="lms.ping", kwargs={}, queue="default", publish_state="published",
                                      published_at=timezone.now() - timedelta(hours=1)),
           lambda j: _fresh(j).reconciled_count),
    Action("certificates.certificate", "revoke", ("certificates.change_certificate",),
           _issued_certificate, lambda c: _fresh(c).status,
           extra={"apply": "1", "reason": "Issued in error"}),
    Action("certificates.certificate", "regenerate", ("certificates.change_certificate",),
           _issued_certificate, jobs_queued),
    Action("certificates.certificate", "retry_failed", ("certificates.change_certificate",),
           lambda: CertificateFactory(status="failed"), jobs_queued),
    Action("notifications.notification", "resend", ("notifications.change_notification",), _notification,
           jobs_queued),
    Action("notifications.webhookendpoint", "send_test_event", ("notifications.change_webhookendpoint",),
           WebhookEndpointFactory, lambda e: WebhookDelivery.objects.count()),
    Action("notifications.webhookendpoint", "rotate_secret", ("notifications.change_webhookendpoint",),
           WebhookEndpointFactory, lambda e: _fresh(e).secret),
    Action("notifications.webhookdelivery", "redeliver", ("notifications.change_webhookdelivery",),
           lambda: WebhookDeliveryFactory(status="failed"), jobs_queued),
    Action("django_celery_beat.periodictask", "enable_tasks", ("django_celery_beat.change_periodictask",),
           lambda: _periodic_task(enabled=False), lambda t: _fresh(t).enabled),
    Action("django_celery_beat.periodictask", "disable_tasks", ("django_celery_beat.change_periodictask",),
           _periodic_task, lambda t: _fresh(t).enabled),
    Action("django_celery_beat.periodictask", "toggle_tasks", ("django_celery_beat.change_periodictask",),
           _periodic_task, lambda t: _fresh(t).enabled),
    # Runs an unregistered task here (nothing is sent); the row checks who is offered the action.
    Action("django_celery_beat.periodictask", "run_tasks", ("django_celery_beat.change_periodictask",),
           _periodic_task, None),
]  # fmt: skip


def changelist(action: Action) -> str:
    return "/admin/{}/{}/".format(*action.model.split("."))


def post_action(client, action: Action, obj):
    data = {"action": action.name, "_selected_action": [obj.pk], "index": 0, **action.extra}
    return client.post(changelist(action), data)


def view_only_staff():
    user = staff_with(email="viewer@example.com")
    codenames = Permission.objects.filter(codename__startswith="view_").select_related("content_type")
    return grant(user, *(f"{p.content_type.app_label}.{p.codename}" for p in codenames))


@pytest.mark.parametrize("action", ACTIONS, ids=str)
def test_view_only_staff_is_not_offered_the_action_and_posting_it_changes_nothing(client, action):
    obj = action.make()
    before = action.state(obj) if action.state else None
    client.force_login(view_only_staff())

    page = client.get(changelist(action))
    assert page.status_code == 200 and f'value="{action.name}"' not in page.content.decode()
    post_action(client, action, obj)
    if action.state:
        assert action.state(obj) == before


@pytest.mark.parametrize("action", ACTIONS, ids=str)
def test_the_action_s_own_permission_is_enough(client, action):
    obj = action.make()
    before = action.state(obj) if action.state else None
    client.force_login(staff_with(*action.perms, email="exact@example.com"))

    assert f'value="{action.name}"' in client.get(changelist(action)).content.decode()
    assert post_action(client, action, obj).status_code in (200, 302)
    if action.state:
        assert action.state(obj) != before


def test_every_admin_action_has_a_row_and_a_permission():
    registered = {}
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.actions or ():
            func = getattr(model_admin, name) if isinstance(name, str) else name
            registered[f"{model._meta.label_lower}.{func.__name__}"] = getattr(func, "allowed_permissions", ())
    assert {name for name, perms in registered.items() if not perms} == set()
    assert set(registered) == {str(action) for action in ACTIONS}
