"""Acceptance with real processes: a stopped beat is reported down (page, detail endpoint, one alert email)
and recovered; a worker killed with SIGKILL is reported gone. The checks run from the test, as the relay and
beat's periodic task run them, with thresholds shortened through settings (the test process grades)."""

import signal

import pytest
from django.core import mail
from django.urls import reverse

from jobs.alerts import health_alerts_run
from jobs.models import Heartbeat
from tests.jobs.beats import HEARTBEAT_SECONDS, BeatProcess, NamedWorker
from tests.jobs.factories import staff_with
from tests.utils import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def short_thresholds(settings):
    settings.HEALTH_HEARTBEAT_WARNING_SECONDS = HEARTBEAT_SECONDS * 2
    settings.HEALTH_HEARTBEAT_ERROR_SECONDS = HEARTBEAT_SECONDS * 3


@pytest.fixture
def processes(tmp_path, transactional_db):
    started = []

    def start(cls, label):
        process = cls(tmp_path, label)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop(signal.SIGKILL)


def _check(client, name: str) -> dict:
    return next(c for c in client.get(reverse("healthz-detail")).json()["checks"] if c["name"] == name)


def _beat_mails() -> list[str]:
    return [m.subject for m in mail.outbox if "] beat:" in m.subject]


def test_a_killed_beat_is_down_within_a_minute_alerted_once_and_recovery_is_mailed(client, processes, short_thresholds):
    client.force_login(staff_with("jobs.view_operations", "jobs.receive_alerts", email="ops@example.com"))
    beat = processes(BeatProcess, "health")
    wait_for(lambda: _check(client, "beat")["status"] == "ok", timeout=60, interval=0.5, message="beat reported up")
    health_alerts_run()
    mail.outbox.clear()

    beat.stop(signal.SIGKILL)  # a crash: nothing is cleaned up, the heartbeat just stops
    down = wait_for(
        lambda: (c := _check(client, "beat"))["status"] == "error" and c, timeout=60, interval=0.5, message="beat down"
    )
    assert down["figure"].startswith("last seen")
    page = client.get(reverse("admin:jobs_operations")).content.decode()
    assert '<tr class="health-error"><td>beat</td><td class="health-error">error</td>' in page
    assert "gone" in page
    health_alerts_run()
    health_alerts_run()
    mails = _beat_mails()
    assert len(mails) == 1 and mails[0].startswith("[LMS error] beat: last seen"), mails
    assert mail.outbox[0].to == ["ops@example.com"]

    processes(BeatProcess, "again")
    wait_for(lambda: _check(client, "beat")["status"] == "ok", timeout=60, interval=0.5, message="beat back up")
    health_alerts_run()
    assert len(_beat_mails()) == 2 and _beat_mails()[1].startswith("[LMS resolved] beat:")


def test_a_cleanly_stopped_beat_is_down_at_once(client, processes):
    client.force_login(staff_with("jobs.view_operations"))
    beat = processes(BeatProcess, "clean")
    wait_for(lambda: _check(client, "beat")["status"] == "ok", timeout=60, interval=0.5, message="beat reported up")
    beat.stop(signal.SIGTERM)
    assert _check(client, "beat") == {
        "name": "beat",
        "status": "error",
        "figure": "no beat",
        "message": "No beat is running: no periodic task runs. Start one.",
    }


def test_a_worker_killed_with_sigkill_shows_as_gone(client, processes, short_thresholds):
    client.force_login(staff_with("jobs.view_operations"))
    worker = processes(NamedWorker, "killed")
    wait_for(
        lambda: Heartbeat.objects.filter(kind="worker", name=worker.node).exists(),
        timeout=60,
        interval=0.5,
        message="the worker's heartbeat",
    )
    worker.stop(signal.SIGKILL)

    def state() -> str | None:
        beats = client.get(reverse("healthz-detail")).json()["heartbeats"]
        return next((b["state"] for b in beats if b["name"] == worker.node), None)

    wait_for(lambda: state() == "gone", timeout=60, interval=0.5, message="the killed worker shown as gone")
    workers = _check(client, "workers")
    assert workers["status"] == "error" and f"{worker.node} (gone" in workers["message"]
    assert worker.node in client.get(reverse("admin:jobs_operations")).content.decode()
