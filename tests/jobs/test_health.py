"""Health checks, the detail endpoint, the operations page and the alerts, in-process: heartbeat rows aged by
hand, messages pushed onto the real broker, jobs and results in the database."""

import json
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_celery_results.models import TaskResult

from jobs.alerts import health_alerts_run
from jobs.health import health_checks
from jobs.heartbeats import heartbeat_record, lease_acquire, lease_release
from jobs.models import HealthIncident, Heartbeat, Job
from tests.conftest import broker_client
from tests.jobs.factories import staff_with

pytestmark = pytest.mark.django_db


def _seen(kind: str, name: str, seconds_ago: float, role: str = "") -> None:
    heartbeat_record(kind=kind, name=name, role=role, now=timezone.now() - timedelta(seconds=seconds_ago))


@pytest.fixture
def everything_alive():
    _seen("beat", "host:1", 1, role="active")
    _seen("worker", "worker@host", 1)
    _seen("relay", "host:2", 1)


def _by_name(checks) -> dict:
    return {c["name"] if isinstance(c, dict) else c.name: c for c in checks}


def _detail(client, **headers):
    return client.get(reverse("healthz-detail"), **headers)


def test_detail_needs_the_token_or_the_operations_permission(client, settings, everything_alive):
    settings.HEALTH_TOKEN = "s3cret-token"
    assert _detail(client).status_code == 401
    assert _detail(client, HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    client.force_login(staff_with())
    assert _detail(client).status_code == 403
    answered = _detail(client, HTTP_AUTHORIZATION="Bearer s3cret-token")
    assert answered.status_code in (200, 503)
    client.force_login(staff_with("jobs.view_operations"))
    body = _detail(client).json()
    assert _by_name(body["checks"])["beat"]["status"] == "ok"
    assert {(b["kind"], b["name"], b["state"]) for b in body["heartbeats"]} >= {("beat", "host:1", "alive")}


def test_a_beat_unseen_past_the_threshold_is_down(client, everything_alive):
    Heartbeat.objects.filter(kind="beat").delete()
    _seen("beat", "host:9", 60, role="active")
    client.force_login(staff_with("jobs.view_operations"))
    response = _detail(client)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    beat = _by_name(body["checks"])["beat"]
    assert beat["status"] == "error" and beat["figure"] == "last seen 60 s ago"
    Heartbeat.objects.filter(kind="beat").delete()
    assert _by_name(_detail(client).json()["checks"])["beat"]["figure"] == "no beat"


def test_a_standby_beat_alone_is_not_a_running_beat(everything_alive):
    Heartbeat.objects.filter(kind="beat").update(role="standby")
    assert _by_name(health_checks())["beat"].status == "error"


def test_a_silent_worker_is_late_then_gone(everything_alive, settings):
    _seen("worker", "killed@host", settings.HEALTH_HEARTBEAT_WARNING_SECONDS + 1)
    workers = _by_name(health_checks())["workers"]
    assert workers.status == "warning" and "killed@host (late" in workers.message
    _seen("worker", "killed@host", settings.HEALTH_HEARTBEAT_ERROR_SECONDS + 1)
    workers = _by_name(health_checks())["workers"]
    assert (workers.status, workers.figure) == ("error", "1 alive, 1 not seen")
    assert "killed@host (gone" in workers.message


def test_the_oldest_message_of_a_queue_decides_its_check(everything_alive, settings):
    client = broker_client()
    client.delete("imports")
    try:
        old = {"headers": {"id": "x", "lms_sent_at": time.time() - 700}, "body": ""}
        new = {"headers": {"id": "y", "lms_sent_at": time.time()}, "body": ""}
        client.lpush("imports", json.dumps(old))  # kombu pushes on the left: the oldest is on the right
        client.lpush("imports", json.dumps(new))
        check = _by_name(health_checks())["queue:imports"]
        assert check.status == "warning" and check.figure.startswith("oldest waiting 11 min")
        settings.HEALTH_QUEUE_AGE_ERROR_SECONDS = 600
        assert _by_name(health_checks())["queue:imports"].status == "error"
    finally:
        client.delete("imports")


def test_a_published_message_carries_the_time_it_was_sent(settings):
    from lms.celery import app

    client = broker_client()
    client.delete("imports")
    try:
        app.send_task("lms.ping", queue="imports")
        message = json.loads(client.lindex("imports", -1))
        assert abs(message["headers"]["lms_sent_at"] - time.time()) < 60
        assert _by_name(health_checks())["queue:imports"].status == "ok"
    finally:
        client.delete("imports")


def test_outbox_dead_letters_failures_and_overruns_are_graded(everything_alive):
    Job.objects.create(task_name="lms.ping", queue="default", publish_state=Job.Publish.DEAD)
    pending = Job.objects.create(task_name="lms.ping", queue="default")
    Job.objects.filter(pk=pending.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    for _ in range(2):
        TaskResult.objects.create(task_id=str(time.time_ns()), task_name="lms.ping", status="FAILURE")
    TaskResult.objects.create(
        task_id="overrun", task_name="lms.ping", status="STARTED", date_started=timezone.now() - timedelta(seconds=11)
    )
    checks = _by_name(health_checks())
    assert (checks["outbox"].status, checks["outbox"].figure) == ("warning", "oldest pending 6 min")
    assert (checks["dead_letters"].status, checks["dead_letters"].figure) == ("error", "1")
    assert checks["failed_jobs"].status == "warning" and checks["failed_jobs"].message == "lms.ping: 2"
    assert checks["overrunning_jobs"].status == "warning" and "lms.ping" in checks["overrunning_jobs"].message


def test_operations_page_shows_each_check_in_its_colour(client, everything_alive):
    Heartbeat.objects.filter(kind="beat").delete()
    client.force_login(staff_with("jobs.view_operations"))
    page = client.get(reverse("admin:jobs_operations")).content.decode()
    assert '<tr class="health-error"><td>beat</td><td class="health-error">error</td><td>no beat</td>' in page
    assert '<tr class="health-ok"><td>relay</td>' in page
    assert "worker@host" in page


def test_alerts_mail_once_per_incident_and_once_on_recovery(everything_alive):
    operator = staff_with("jobs.receive_alerts", email="ops@example.com")
    staff_with("jobs.view_operations", email="other@example.com")
    Heartbeat.objects.filter(kind="beat").delete()
    mail.outbox.clear()

    health_alerts_run()
    health_alerts_run()  # a minute later, still down: no second mail
    beat_mails = [m for m in mail.outbox if "] beat:" in m.subject]
    assert [(m.subject, m.to) for m in beat_mails] == [("[LMS error] beat: no beat", [operator.email])]
    assert HealthIncident.objects.filter(check_name="beat", resolved_at__isnull=True).count() == 1

    _seen("beat", "host:1", 0, role="active")
    mail.outbox.clear()
    health_alerts_run()
    health_alerts_run()
    assert [m.subject for m in mail.outbox if "beat:" in m.subject] == ["[LMS resolved] beat: last seen 0 s ago"]
    assert not HealthIncident.objects.filter(check_name="beat", resolved_at__isnull=True).exists()


def test_the_lease_has_one_holder_until_it_expires_or_is_released():
    now = timezone.now()
    assert lease_acquire(name="t", holder="a", seconds=10, now=now)
    assert not lease_acquire(name="t", holder="b", seconds=10, now=now + timedelta(seconds=5))
    assert lease_acquire(name="t", holder="a", seconds=10, now=now + timedelta(seconds=5))  # renewed
    assert not lease_acquire(name="t", holder="b", seconds=10, now=now + timedelta(seconds=14))
    assert lease_acquire(name="t", holder="b", seconds=10, now=now + timedelta(seconds=16))  # expired
    lease_release(name="t", holder="b")
    assert lease_acquire(name="t", holder="a", seconds=10)


def test_the_nightly_prune_forgets_processes_unseen_for_a_day():
    from jobs.tasks import results_prune_task

    _seen("worker", "retired@host", 25 * 3600)
    _seen("worker", "recent@host", 3600)
    assert results_prune_task()["heartbeats"] == 1
    assert list(Heartbeat.objects.values_list("name", flat=True)) == ["recent@host"]


def test_an_incident_and_its_recovery_reach_sentry(everything_alive):
    import sentry_sdk

    from lms.sentry import init_sentry
    from tests.jobs.test_operations import SentryIngest

    ingest = SentryIngest()
    previous = sentry_sdk.get_client()
    init_sentry(dsn=ingest.dsn, environment="test", traces_sample_rate=0.0)
    try:
        Heartbeat.objects.filter(kind="beat").delete()
        health_alerts_run()
        _seen("beat", "host:1", 0, role="active")
        health_alerts_run()
        sentry_sdk.flush(timeout=5)
    finally:
        sentry_sdk.get_global_scope().set_client(previous)  # off again, as without SENTRY_DSN
        ingest.server.shutdown()
    messages = [
        (item.get("level"), (item.get("logentry") or {}).get("message") or item.get("message"))
        for envelope in ingest.envelopes
        for item in envelope
        if item.get("level")
    ]
    assert ("error", "[LMS error] beat: no beat") in messages
    assert ("info", "[LMS resolved] beat: last seen 0 s ago") in messages


def test_a_warning_that_worsens_keeps_one_incident_at_the_worse_status(everything_alive, settings):
    mail.outbox.clear()
    staff_with("jobs.receive_alerts", email="ops@example.com")
    _seen("worker", "slow@host", settings.HEALTH_HEARTBEAT_WARNING_SECONDS + 1)
    health_alerts_run()
    _seen("worker", "slow@host", settings.HEALTH_HEARTBEAT_ERROR_SECONDS + 1)
    health_alerts_run()
    incident = HealthIncident.objects.get(check_name="workers")
    assert (incident.status, incident.resolved_at) == ("error", None)
    assert [m.subject for m in mail.outbox if "workers" in m.subject] == ["[LMS warning] workers: 1 alive, 1 not seen"]


def test_a_broker_that_does_not_answer_is_an_error(everything_alive, settings):
    from lms.celery import app
    from tests.faults.conftest import _reset_broker_connections

    keys = ("broker_url", "broker_write_url", "broker_read_url")
    previous = {key: app.conf.get(key) for key in keys}
    app.conf.update(dict.fromkeys(keys, "redis://127.0.0.1:1/0"))  # port 1 refuses at once
    _reset_broker_connections()
    try:
        checks = _by_name(health_checks())
    finally:
        app.conf.update(previous)
        _reset_broker_connections()
    assert (checks["queues"].status, checks["queues"].figure) == ("error", "broker unreachable")
    assert "queue:default" not in checks


def test_a_job_sent_a_moment_ago_is_not_an_outbox_problem_until_its_publish_fails(everything_alive):
    # The request publishes and leaves the row pending until the relay confirms it (jobs.relay).
    sent = Job.objects.create(
        task_name="lms.ping", queue="default", next_publish_at=timezone.now() + timedelta(seconds=5)
    )
    Job.objects.filter(pk=sent.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    assert _by_name(health_checks())["outbox"].figure == "none pending"

    Job.objects.filter(pk=sent.pk).update(publish_attempts=1, last_publish_error="ConnectionError: broker down")
    assert _by_name(health_checks())["outbox"].figure == "oldest pending 6 min"
