"""A database made by the code before the apps were restructured (issue 17) migrates to today's layout with
every row, link, permission and periodic task intact.

The old layout is rebuilt for real: a database of its own is migrated to the migration nodes the code had
then (jobs and idempotency records in `lms`, imports in `enrollments`), filled through those historical
models, then migrated to today's leaves. Then today's models must find everything.
"""

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import load_backend
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

# The leaves of our apps at the commit before the move (bc34b4e); other apps at their own leaves.
OLD_LEAVES = {
    "lms": "0006_job_trace_context",
    "accounts": "0002_full_name_normalized",
    "courses": "0001_initial",
    "enrollments": "0004_updated_at_index",
    "certificates": "0004_certificates_issued_to_an_email",
    "notifications": "0003_notification_certificate_revoked",
}
ALIAS = "layout_migration"


@pytest.fixture
def blank_database(tmp_path):
    """A second, empty database beside the test database (dropped afterwards)."""
    default = connections["default"].settings_dict
    config = {**default, "TEST": {}}
    if default["ENGINE"].endswith("sqlite3"):
        config["NAME"] = str(tmp_path / "layout.sqlite3")
    else:
        config["NAME"] = f"lms_layout_{uuid.uuid4().hex[:12]}"
        with connections["default"].cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{config["NAME"]}"')
    # Set as a connection but not listed in the settings: the test case then treats it as created on the
    # fly (allowed), not as a configured database this test did not ask for.
    connections[ALIAS] = load_backend(config["ENGINE"]).DatabaseWrapper(config, ALIAS)
    try:
        yield ALIAS
    finally:
        connections[ALIAS].close()
        del connections[ALIAS]
        if not default["ENGINE"].endswith("sqlite3"):
            with connections["default"].cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}" WITH (FORCE)')


def _old_targets(executor: MigrationExecutor) -> list[tuple[str, str]]:
    graph = executor.loader.graph
    targets = [(app, name) for app, name in OLD_LEAVES.items()]
    ours = set(OLD_LEAVES) | {"jobs", "core", "imports", "reports"}  # the apps the old layout did not have
    targets += [node for node in graph.leaf_nodes() if node[0] not in ours]
    return targets


def _fill_old_layout(apps) -> dict:
    """Rows of every kind the move touches, written through the old layout's models."""
    now = timezone.now()
    user = apps.get_model("accounts", "User").objects.using(ALIAS).create(email="ann@example.com", password="!")
    course = apps.get_model("courses", "Course").objects.using(ALIAS).create(title="Python", slug="python")
    enrollment = (
        apps.get_model("enrollments", "Enrollment").objects.using(ALIAS).create(learner_id=user.pk, course_id=course.pk)
    )
    ContentType = apps.get_model("contenttypes", "ContentType")
    enrollment_type = ContentType.objects.using(ALIAS).create(app_label="enrollments", model="enrollment")
    job_type = ContentType.objects.using(ALIAS).create(app_label="lms", model="job")
    Permission = apps.get_model("auth", "Permission")
    view_operations = Permission.objects.using(ALIAS).create(
        content_type_id=job_type.pk, codename="view_operations", name="Can view the operations page"
    )
    import_type = ContentType.objects.using(ALIAS).create(app_label="enrollments", model="importjob")
    control_imports = Permission.objects.using(ALIAS).create(
        content_type_id=import_type.pk, codename="control_importjob", name="Can cancel and resume imports"
    )
    group = apps.get_model("auth", "Group").objects.using(ALIAS).create(name="Operators")
    group.permissions.add(view_operations, control_imports)

    Job = apps.get_model("lms", "Job")
    first = Job.objects.using(ALIAS).create(
        task_id="first-task", task_name="enrollments.sync_progress", kwargs={"enrollment_id": enrollment.pk},
        queue="default", content_type_id=enrollment_type.pk, object_id=enrollment.pk, publish_state="published",
    )  # fmt: skip
    retry = Job.objects.using(ALIAS).create(
        task_id="retry-task", task_name="enrollments.sync_progress", kwargs={"enrollment_id": enrollment.pk},
        queue="default", retry_of_id=first.pk, trace_context="00-" + "a" * 32 + "-" + "b" * 16 + "-01",
    )  # fmt: skip
    apps.get_model("django_celery_results", "TaskResult").objects.using(ALIAS).create(
        task_id="first-task", task_name="enrollments.sync_progress", status="FAILURE", result='"boom"'
    )
    apps.get_model("lms", "IdempotencyRecord").objects.using(ALIAS).create(
        user_id=user.pk, key="key-1", method="POST", path="/api/x/", request_fingerprint="f" * 64,
        response_status=201, response_body=b"{}", expires_at=now + timedelta(days=1),
    )  # fmt: skip
    apps.get_model("lms", "Heartbeat").objects.using(ALIAS).create(
        kind="worker", name="worker@host", started_at=now, last_seen=now
    )

    ImportJob = apps.get_model("enrollments", "ImportJob")
    upload = ImportJob.objects.using(ALIAS).create(
        uploaded_by_id=user.pk, file="imports/people.csv", original_name="people.csv",
        size=10, sha256="0" * 64, status="completed", total_rows=2, rows_done=2, errors=1, finished_at=now,
    )  # fmt: skip
    apps.get_model("enrollments", "ImportRowError").objects.using(ALIAS).create(
        import_job_id=upload.pk, row_number=3, values=["not-an-email"], reason="Enter a valid email address."
    )
    apps.get_model("enrollments", "ImportedEnrollment").objects.using(ALIAS).create(
        import_job_id=upload.pk, row_number=2, enrollment_id=enrollment.pk, enrollment_created=True,
        user_created=False, send_welcome=False,
    )  # fmt: skip

    endpoint = (
        apps.get_model("notifications", "WebhookEndpoint")
        .objects.using(ALIAS)
        .create(url="https://crm.example.com/hooks", secret="whsec_" + "A" * 32, event_types=["enrollment.created"])
    )
    event = (
        apps.get_model("notifications", "WebhookEvent")
        .objects.using(ALIAS)
        .create(event_type="enrollment.created", dedupe_key=f"enrollment.created:{enrollment.pk}", payload={"id": 1})
    )
    delivery = (
        apps.get_model("notifications", "WebhookDelivery")
        .objects.using(ALIAS)
        .create(event_id=event.pk, endpoint_id=endpoint.pk, status="failed", attempts=1, last_status_code=500)
    )
    apps.get_model("notifications", "WebhookAttempt").objects.using(ALIAS).create(
        delivery_id=delivery.pk, status_code=500, response_excerpt="oops"
    )
    interval = (
        apps.get_model("django_celery_beat", "IntervalSchedule").objects.using(ALIAS).create(every=60, period="seconds")
    )
    apps.get_model("django_celery_beat", "PeriodicTask").objects.using(ALIAS).create(
        name="Mark jobs stuck past their time limit failed", task="lms.sweep_stuck_jobs", interval_id=interval.pk,
        enabled=False,  # staff switched it off: the move must not switch it back on
    )  # fmt: skip
    return {"user": user.pk, "enrollment": enrollment.pk, "first": first.pk, "retry": retry.pk, "import": upload.pk,
            "delivery": delivery.pk, "endpoint": endpoint.pk}  # fmt: skip


def test_a_database_of_the_old_layout_migrates_with_every_row_intact(blank_database):
    from django.contrib.auth.models import Group
    from django_celery_beat.models import PeriodicTask
    from django_celery_results.models import TaskResult

    from core.models import IdempotencyRecord
    from enrollments.models import Enrollment
    from imports.models import ImportJob
    from jobs.models import Heartbeat, Job
    from notifications.models import WebhookDelivery

    executor = MigrationExecutor(connections[ALIAS])
    old = _old_targets(executor)
    executor.migrate(old)
    ids = _fill_old_layout(executor.loader.project_state(old).apps)

    executor = MigrationExecutor(connections[ALIAS])
    executor.migrate(executor.loader.graph.leaf_nodes())
    executor.loader.build_graph()  # what is applied now
    assert not executor.migration_plan(executor.loader.graph.leaf_nodes())

    retry = Job.objects.using(ALIAS).select_related("retry_of").get(pk=ids["retry"])
    assert retry.retry_of.pk == ids["first"] and retry.trace_context.startswith("00-" + "a" * 32)
    first = Job.objects.using(ALIAS).get(pk=ids["first"])
    assert (first.content_type.app_label, first.content_type.model, first.object_id) == (
        "enrollments", "enrollment", ids["enrollment"]
    )  # fmt: skip
    assert isinstance(first.about, Enrollment)
    assert TaskResult.objects.using(ALIAS).get(task_id=first.task_id).status == "FAILURE"
    assert IdempotencyRecord.objects.using(ALIAS).get(key="key-1").user_id == ids["user"]
    assert Heartbeat.objects.using(ALIAS).filter(name="worker@host").exists()

    upload = ImportJob.objects.using(ALIAS).get(pk=ids["import"])
    assert [(e.row_number, e.reason) for e in upload.row_errors.all()] == [(3, "Enter a valid email address.")]
    assert [row.enrollment_id for row in upload.applied_rows.all()] == [ids["enrollment"]]

    delivery = WebhookDelivery.objects.using(ALIAS).select_related("endpoint", "event").get(pk=ids["delivery"])
    assert delivery.endpoint.pk == ids["endpoint"] and delivery.event.event_type == "enrollment.created"
    assert [a.status_code for a in delivery.attempt_log.all()] == [500]

    # The group's permissions now belong to the jobs and imports apps: the same rows, so the group still
    # holds them.
    operators = Group.objects.using(ALIAS).get(name="Operators")
    held = sorted(f"{p.content_type.app_label}.{p.codename}" for p in operators.permissions.all())
    assert held == ["imports.control_importjob", "jobs.view_operations"]
    sweep = PeriodicTask.objects.using(ALIAS).get(name="Mark jobs stuck past their time limit failed")
    assert (sweep.task, sweep.enabled) == ("lms.sweep_stuck_jobs", False)


def test_every_task_name_of_the_old_layout_is_still_registered():
    """Messages queued before an upgrade name these tasks: each must still run after it."""
    from lms.celery import app

    app.loader.import_default_modules()
    old_names = {
        "lms.ping", "lms.relay_outbox", "lms.sweep_stuck_jobs", "lms.reconcile_lost_jobs", "lms.prune_results",
        "lms.health_alerts",
        "certificates.issue_certificate", "certificates.issue_awaiting_name", "certificates.issue_named_waiting",
        "certificates.regenerate_certificate", "certificates.regenerate_outdated",
        "enrollments.sync_progress", "enrollments.recompute_course_progress", "enrollments.recompute_course_stats",
        "enrollments.recompute_all_stats", "enrollments.import_process", "enrollments.import_notify",
        "notifications.send_email", "notifications.send_bulk_email", "notifications.send_resend_email",
        "notifications.fanout_webhook_event", "notifications.deliver_webhook", "notifications.retry_due_webhooks",
    }  # fmt: skip
    assert old_names - set(app.tasks) == set()


def test_every_task_goes_to_a_declared_queue():
    from jobs.enqueue import queue_for
    from lms.celery import app

    app.loader.import_default_modules()
    ours = [task for name, task in app.tasks.items() if not name.startswith("celery.")]
    assert {queue_for(task.name) for task in ours} <= set(settings.CELERY_TASK_QUEUES_NAMES)
