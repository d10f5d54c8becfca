"""One lesson completion that issues a certificate is one trace, across the web and worker processes."""

import json
import os
import signal
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
import requests
from rest_framework.authtoken.models import Token

from certificates.models import Certificate
from notifications.models import WebhookDelivery
from tests.conftest import _database_url_for_tests
from tests.courses.factories import course_with_lessons
from tests.enrollments.factories import EnrollmentFactory
from tests.jobs.factories import UserFactory
from tests.notifications.factories_webhooks import WebhookEndpointFactory
from tests.notifications.webhook_receiver import receiver_fixture  # noqa: F401 - the `receiver` fixture
from tests.observability.conftest import free_port
from tests.utils import wait_for

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = pytest.mark.integration


def read_spans(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture
def traced_env(tmp_path):
    spans = tmp_path / "spans.jsonl"
    return spans, {"OTEL_TRACES_EXPORTER": "jsonfile", "LMS_OTEL_SPANS_FILE": str(spans)}


@pytest.fixture
def traced_web(traced_env, transactional_db, tmp_path):
    """gunicorn serving the test database, with tracing on (two workers: a real multi-process web)."""
    port = free_port()
    env = {**os.environ, **traced_env[1], "DJANGO_SETTINGS_MODULE": "tests.settings",
           "DATABASE_URL": _database_url_for_tests(), "OTEL_SERVICE_NAME": "lms-web"}  # fmt: skip
    log = open(tmp_path / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "lms.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--no-control-socket"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
        try:
            return requests.get(f"{url}/healthz", timeout=5).status_code == 200
        except requests.RequestException:  # not listening yet, or still booting under load
            return False

    wait_for(answers, timeout=60, message="gunicorn to answer")
    yield url
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)
    log.close()


def test_a_last_lesson_completion_is_one_trace_from_request_to_webhook(
    own_worker, traced_env, traced_web, receiver, clean_media
):
    spans_file, env = traced_env
    own_worker(env)
    WebhookEndpointFactory(url=receiver.url, event_types=["certificate.issued"])
    (lesson,) = course_with_lessons(1)[1]
    learner = UserFactory()
    EnrollmentFactory(course=lesson.course, learner=learner)
    token = Token.objects.create(user=learner).key

    response = requests.post(
        f"{traced_web}/api/lessons/{lesson.pk}/complete/", headers={"Authorization": f"Token {token}"}, timeout=10
    )
    assert response.status_code == 202, response.text
    wait_for(lambda: WebhookDelivery.objects.filter(status="succeeded").exists(), timeout=60,
             message="the certificate.issued webhook to be delivered")  # fmt: skip
    assert Certificate.objects.filter(enrollment__learner=learner, status="issued").exists()

    def the_trace() -> dict | None:
        spans = read_spans(spans_file)
        requests_ = [s for s in spans if s["kind"] == "SERVER" and "lessons" in s["name"]]
        if not requests_:
            return None
        trace = [s for s in spans if s["trace_id"] == requests_[0]["trace_id"]]
        names = {s["name"] for s in trace}
        # The email too: its task runs beside the webhook's, and its span may be written after it.
        wanted = {"run/enrollments.sync_progress", "run/certificates.issue_certificate",
                  "run/notifications.deliver_webhook", "run/notifications.send_email"}  # fmt: skip
        return {"spans": trace, "names": names} if wanted <= names else None

    found = wait_for(
        the_trace, timeout=30, message="one trace holding the request, sync, certificate, webhook and email"
    )
    spans = found["spans"]
    assert len({s["trace_id"] for s in spans}) == 1
    # It crossed processes: the web's request, tasks in the worker's pool processes.
    services = defaultdict(set)
    for span in spans:
        services[span["service"]].add(span["pid"])
    assert "lms-web" in services and "lms-worker" in services
    # The webhook's outgoing HTTP request is in it too (requests instrumentation), and so is the email.
    receiver_host = str(receiver.url).split("//")[1].split("/")[0]

    def posted_to_receiver(span: dict) -> bool:
        attributes = span["attributes"]
        method = attributes.get("http.request.method", attributes.get("http.method"))
        return method == "POST" and receiver_host in attributes.get("url.full", attributes.get("http.url", ""))

    assert any(s["kind"] == "CLIENT" and posted_to_receiver(s) for s in spans), sorted(found["names"])
    assert "run/notifications.send_email" in found["names"], sorted(found["names"])


STORED = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_a_job_the_relay_republishes_runs_in_the_trace_stored_with_it(own_worker, traced_env):
    from datetime import timedelta

    from django.utils import timezone

    from jobs.models import Job
    from lms.celery import app

    spans_file, env = traced_env
    own_worker(env)
    # A job whose after-commit publish never happened (the web process died): only the relay sends it.
    Job.objects.create(task_name="lms.ping", kwargs={"note": "lost"}, queue="default", trace_context=STORED,
                       next_publish_at=timezone.now() - timedelta(seconds=1))  # fmt: skip
    app.send_task("lms.relay_outbox", queue="default")  # the relay runs in the traced worker, in its own trace

    def pinged() -> list[dict]:
        return [s for s in read_spans(spans_file) if s["name"] == "run/lms.ping"]

    (span,) = wait_for(pinged, timeout=30, message="the republished job to run")
    assert span["trace_id"] == STORED.split("-")[1]


@pytest.mark.django_db
def test_a_job_retried_from_the_admin_keeps_the_trace_of_the_job_it_retries():
    from jobs.models import Job
    from jobs.services import job_retry

    failed = Job.objects.create(task_name="lms.ping", kwargs={"note": "x"}, queue="default", trace_context=STORED)
    assert job_retry(job=failed, by="admin").trace_context == STORED


@pytest.mark.django_db
def test_with_tracing_off_no_context_is_stored_and_no_instrumentation_is_loaded():
    # (redis-py itself imports the OpenTelemetry API when installed; the instrumentations stay unloaded.)
    from enrollments.tasks import progress_sync_task
    from jobs.enqueue import enqueue

    assert enqueue(progress_sync_task, enrollment_id=1).trace_context is None
    code = (
        "import django, os, sys; os.environ['DJANGO_SETTINGS_MODULE']='tests.settings'; django.setup(); "
        "import jobs.enqueue, jobs.tasks, lms.celery; "
        "print(any(m.startswith('opentelemetry.instrumentation') for m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
