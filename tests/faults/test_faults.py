"""Nothing lost, nothing done twice: each test injects a fault, then checks the end state in the database.

Run against the real PostgreSQL, a real redis-server and worker processes (the suite's own, so it can
kill and restart them). Row locks taken by the test hold a task in the middle of its work."""

import json
import logging
import runpy
import signal
import time

import pytest
import redis
from django.db import connection
from django.utils import timezone
from django_celery_results.models import TaskResult
from rest_framework.test import APIClient

from certificates.models import Certificate
from certificates.services import certificate_get_or_create_pending
from certificates.tasks import certificate_issue_task
from enrollments import services as enrollment_services
from enrollments.models import Enrollment
from jobs.enqueue import enqueue
from jobs.models import Job
from jobs.relay import outbox_relay
from jobs.tasks import ping_task
from lms.celery import app
from notifications.models import Notification, WebhookDelivery, WebhookEndpoint
from tests.certificates.conftest import stored_pdfs
from tests.certificates.factories import CertificateFactory
from tests.conftest import ROOT, broker_client
from tests.courses.factories import course_with_lessons
from tests.enrollments.factories import EnrollmentFactory
from tests.faults.conftest import RowLock, waiting_backends
from tests.notifications.webhook_receiver import Reply, receiver_fixture  # noqa: F401 - fixture
from tests.utils import wait_for

pytestmark = pytest.mark.integration


def _enrollment_with_lessons(n: int = 2) -> tuple[Enrollment, list]:
    # No course-wide recompute is queued by the lessons: only the path under test writes the progress.
    course, lessons = course_with_lessons(n)
    return EnrollmentFactory(course=course), lessons


def _sync_result(job: Job) -> dict | None:
    """What the job's own sync stored in its TaskResult once it succeeded (None before)."""
    result = TaskResult.objects.filter(task_id=job.task_id, status="SUCCESS").first()
    return json.loads(result.result) if result else None


def _started(job: Job) -> bool:
    return TaskResult.objects.filter(task_id=job.task_id, status="STARTED").exists()


def _job_for(task_name: str, **kwargs) -> Job:
    return Job.objects.filter(task_name=task_name, kwargs=kwargs).latest("created_at")


def test_worker_killed_mid_progress_sync_runs_it_again(postgres_only, fault_worker):
    worker = fault_worker()
    enrollment, lessons = _enrollment_with_lessons(2)
    with RowLock(Enrollment.objects.filter(pk=enrollment.pk)):
        enrollment_services.lesson_complete(learner=enrollment.learner, lesson_id=lessons[0].pk)
        job = _job_for("enrollments.sync_progress", enrollment_id=enrollment.pk)
        # The sync stores no STARTED state (it lasts milliseconds): ask PostgreSQL who is waiting instead.
        wait_for(lambda: waiting_backends(), message="the sync to start and block on the row lock")
        worker.stop(signal.SIGKILL)
    # The sync was one statement: the dead worker's orphaned backend either never ran it or, once the lock
    # went, ran it whole (a correct count); never a part of it.
    assert Enrollment.objects.get(pk=enrollment.pk).progress_percent in (0, 50)

    fault_worker()  # the message comes back after the visibility timeout
    wait_for(
        lambda: Enrollment.objects.filter(pk=enrollment.pk, progress_percent=50).exists(),
        timeout=40,
        message="the redelivered sync",
    )
    assert wait_for(lambda: _sync_result(job), message="the sync's result")["progress_percent"] == 50


def test_worker_killed_mid_pdf_render_leaves_one_certificate(postgres_only, fault_worker):
    worker = fault_worker()
    enrollment = EnrollmentFactory(status="completed", completed_at=timezone.now())
    pending = certificate_get_or_create_pending(enrollment=enrollment)
    with RowLock(Certificate.objects.filter(pk=pending.pk)):
        job = enqueue(certificate_issue_task, enrollment_id=enrollment.pk)
        wait_for(lambda: _started(job), message="the render to start and block on the row lock")
        worker.stop(signal.SIGKILL)

    fault_worker()
    wait_for(
        lambda: Certificate.objects.filter(pk=pending.pk, status="issued").exists(),
        timeout=40,
        message="the redelivered render",
    )
    assert Certificate.objects.filter(enrollment=enrollment).count() == 1
    assert len(stored_pdfs()) == 1
    assert Notification.objects.filter(kind="certificate_issued").count() <= 1


def test_broker_down_the_request_still_succeeds_and_the_work_arrives(fault_worker, broker, api_client):
    # How long the request waits on a dead broker is bounded by publish()'s retry policy, not timed here.
    worker = fault_worker()
    enrollment, lessons = _enrollment_with_lessons(2)
    api_client.force_authenticate(enrollment.learner)
    broker.stop()

    response = api_client.post(f"/api/lessons/{lessons[0].pk}/complete/")

    assert response.status_code == 202
    job = _job_for("enrollments.sync_progress", enrollment_id=enrollment.pk)
    assert job.publish_state == "pending" and job.last_publish_error

    broker.start()
    workers = [worker]

    def a_worker_answers():
        if workers[-1].process is None or workers[-1].process.poll() is not None:
            # kombu 5.7 can crash a worker that loses Redis while holding unacknowledged messages
            # (docs/reliability.md); its supervisor (compose `restart:`) starts it again, as we do here.
            workers.append(fault_worker())
        return app.control.ping(timeout=1)

    wait_for(a_worker_answers, timeout=60, interval=1, message="a worker to answer")

    def relayed() -> bool:
        outbox_relay(now=timezone.now() + timezone.timedelta(minutes=10))
        return Job.objects.get(pk=job.pk).publish_state == "published"

    wait_for(relayed, timeout=30, interval=1, message="the relay to publish once the broker is back")
    wait_for(
        lambda: Enrollment.objects.filter(pk=enrollment.pk, progress_percent=50).exists(),
        timeout=40,
        message="the sync after the broker came back",
    )
    assert wait_for(lambda: _sync_result(job), message="the relayed job's result")["progress_percent"] == 50


def test_process_dying_between_commit_and_publish_is_covered_by_the_relay(fault_worker, api_client, monkeypatch):
    fault_worker()
    enrollment, lessons = _enrollment_with_lessons(2)
    api_client.force_authenticate(enrollment.learner)

    def die_after_commit(job, **kwargs):
        raise SystemError("web process killed after commit (simulated)")

    monkeypatch.setattr("jobs.enqueue.publish", die_after_commit)
    assert api_client.post(f"/api/lessons/{lessons[0].pk}/complete/").status_code == 202
    monkeypatch.undo()
    job = _job_for("enrollments.sync_progress", enrollment_id=enrollment.pk)
    assert job.publish_state == "pending"
    assert Enrollment.objects.get(pk=enrollment.pk).progress_percent == 0

    assert outbox_relay(now=timezone.now() + timezone.timedelta(seconds=10)) >= 1
    wait_for(
        lambda: Enrollment.objects.filter(pk=enrollment.pk, progress_percent=50).exists(),
        message="the relayed sync",
    )
    # The job itself ran (its own result), not some other job that happened to write the same value.
    assert wait_for(lambda: _sync_result(job), message="the relayed job's result")["progress_percent"] == 50


def test_same_task_delivered_twice_concurrently_has_its_effects_once(fault_worker, receiver):
    fault_worker()
    endpoint = WebhookEndpoint.objects.create(url=receiver.url, event_types=["certificate.issued"])
    enrollment = EnrollmentFactory(status="completed", completed_at=timezone.now())
    task_id = "duplicate-delivery-of-one-message"
    for _ in range(2):  # the broker handing the same message out twice
        app.send_task("certificates.issue_certificate", kwargs={"enrollment_id": enrollment.pk}, task_id=task_id)

    wait_for(lambda: len(receiver.requests) >= 1, timeout=30, message="the certificate.issued webhook")
    wait_for(
        lambda: Notification.objects.filter(kind="certificate_issued", status="sent").exists(),
        message="the certificate email",
    )
    time.sleep(2)  # let any duplicate effect surface before counting
    assert Certificate.objects.filter(enrollment=enrollment).count() == 1
    assert len(stored_pdfs()) == 1
    assert Notification.objects.filter(kind="certificate_issued").count() == 1
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1
    assert len(receiver.requests) == 1


def test_hanging_webhook_receiver_hits_the_soft_time_limit_and_the_worker_keeps_working(fault_worker, receiver):
    # The read timeout is longer than the task's soft limit, so the soft limit is what cuts the hang.
    fault_worker(WEBHOOK_READ_TIMEOUT="60", WEBHOOK_CONNECT_TIMEOUT="2", WEBHOOK_TASK_SOFT_TIME_LIMIT="3")
    receiver.default = Reply(delay=60)
    endpoint = WebhookEndpoint.objects.create(url=receiver.url, event_types=["enrollment.created"])
    enrollment, lessons = _enrollment_with_lessons(2)

    from notifications.tasks.webhooks import webhook_event_fanout_task

    enqueue(webhook_event_fanout_task, event_type="enrollment.created", object_id=enrollment.pk)
    delivery = wait_for(
        lambda: WebhookDelivery.objects.filter(endpoint=endpoint, status="retrying").first(),
        timeout=30,
        message="the delivery cut off by the soft time limit",
    )
    attempt = delivery.attempt_log.get()
    assert "SoftTimeLimitExceeded" in attempt.error or "time limit" in attempt.error.lower()
    # Meanwhile other queues keep moving on the same worker.
    enrollment_services.lesson_complete(learner=enrollment.learner, lesson_id=lessons[0].pk)
    sync = _job_for("enrollments.sync_progress", enrollment_id=enrollment.pk)
    ping = enqueue(ping_task, note="still alive")
    wait_for(lambda: TaskResult.objects.filter(task_id=ping.task_id, status="SUCCESS").exists(), message="ping")
    wait_for(lambda: Enrollment.objects.filter(pk=enrollment.pk, progress_percent=50).exists(), message="the sync")
    assert wait_for(lambda: _sync_result(sync), message="the sync's result")["progress_percent"] == 50


def test_database_connection_killed_mid_task_is_retried_without_partial_state(postgres_only, fault_worker):
    fault_worker()
    enrollment, lessons = _enrollment_with_lessons(2)
    with RowLock(Enrollment.objects.filter(pk=enrollment.pk)):
        enrollment_services.lesson_complete(learner=enrollment.learner, lesson_id=lessons[0].pk)
        job = _job_for("enrollments.sync_progress", enrollment_id=enrollment.pk)
        backends = wait_for(waiting_backends, message="the sync blocked inside its transaction")
        with connection.cursor() as cursor:
            for pid in backends:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        # The retry (a fresh connection) is soon blocked on the same lock again.
        wait_for(
            lambda: set(waiting_backends()) - set(backends),
            message="the task to retry on a new connection after losing its own",
        )
        # Nothing of the killed transaction was kept.
        assert Enrollment.objects.get(pk=enrollment.pk).last_synced_at is None
    result = wait_for(lambda: _sync_result(job), timeout=30, message="the retried sync")
    assert result["progress_percent"] == 50
    assert Enrollment.objects.get(pk=enrollment.pk).progress_percent == 50


def test_broker_restarted_with_messages_queued_processes_every_message(fault_worker, broker):
    enrollment, lessons = _enrollment_with_lessons(4)
    jobs = [enqueue(ping_task, note=f"queued-{i}") for i in range(20)]
    for lesson in lessons:
        enrollment_services.lesson_complete(learner=enrollment.learner, lesson_id=lesson.pk)
    last_sync = _job_for("enrollments.sync_progress", enrollment_id=enrollment.pk)
    waiting = b"".join(broker_client().lrange("default", 0, -1))
    assert all(j.task_id.encode() in waiting for j in jobs)  # on the broker, their delivery not yet confirmed

    broker.stop()
    broker.start()
    fault_worker()

    wait_for(
        lambda: TaskResult.objects.filter(task_id__in=[j.task_id for j in jobs], status="SUCCESS").count() == 20,
        timeout=40,
        message="all 20 queued pings after the restart",
    )
    wait_for(
        lambda: Enrollment.objects.filter(pk=enrollment.pk, progress_percent=100, status="completed").exists(),
        message="the queued syncs after the restart",
    )
    assert wait_for(lambda: _sync_result(last_sync), message="the last sync's result") == {
        "enrollment_id": enrollment.pk,
        "progress_percent": 100,
        "status": "completed",
    }


def _caches_from_environment(monkeypatch, url: str) -> dict:
    """CACHES as lms/settings.py builds them from the README's production advice: API throttling
    (CACHE_URL) and page rate limits (RATELIMIT_CACHE_URL) on Redis."""
    monkeypatch.setenv("CACHE_URL", url)
    monkeypatch.setenv("RATELIMIT_CACHE_URL", url)
    return runpy.run_path(str(ROOT / "lms" / "settings.py"))["CACHES"]


def test_redis_down_throttles_and_rate_limits_fail_open_and_health_names_the_broker(
    broker, transactional_db, settings, monkeypatch, api_client, client, caplog
):
    settings.CACHES = _caches_from_environment(monkeypatch, broker.url)
    enrollment, lessons = _enrollment_with_lessons(3)
    certificate = CertificateFactory(status="issued", issued_at=timezone.now(), pdf_sha256="0" * 64)
    api_client.force_authenticate(enrollment.learner)
    verify_page = f"/certificates/verify/{certificate.code}/"
    # While Redis is up, the API throttle and the page rate limit keep their counters there.
    assert api_client.post(f"/api/lessons/{lessons[0].pk}/complete/").status_code == 202
    assert client.get(verify_page).status_code == 200
    keys = [key.decode() for key in redis.Redis.from_url(broker.url).keys("*")]
    assert any("throttle_user" in key for key in keys) and any("lms-ratelimit" in key for key in keys), keys

    broker.stop()
    caplog.set_level(logging.WARNING, logger="core.cache")

    for lesson in lessons[1:]:
        assert api_client.post(f"/api/lessons/{lesson.pk}/complete/").status_code == 202
    assert api_client.get("/api/enrollments/").json()["results"][0]["lessons_completed"] == 3
    assert client.get(verify_page).status_code == 200
    assert APIClient().get(f"/api/certificates/verify/{certificate.code}/").json()["valid"] is True
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["database"] == "ok" and health.json()["broker"].startswith("Cannot reach the Celery broker")
    # The completions were recorded and their syncs wait in the outbox for the relay.
    jobs = Job.objects.filter(task_name="enrollments.sync_progress", kwargs__enrollment_id=enrollment.pk)
    assert jobs.filter(publish_state="pending").exclude(last_publish_error="").count() == 2
    # One warning for the outage, not one per request.
    warnings = [r.getMessage() for r in caplog.records if r.name == "core.cache"]
    assert len(warnings) == 1 and "fail open" in warnings[0], warnings
