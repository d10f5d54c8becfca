"""Exactly one beat sends periodic tasks: a second one stands by behind the lease, and takes over when the
active one is killed. Real `celery beat` processes; what they send is counted on the broker (a queue no
worker reads), so no worker is needed."""

import os
import signal
import time

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from jobs.heartbeats import BEAT_LEASE
from jobs.models import Heartbeat, Lease
from tests.conftest import broker_client
from tests.jobs.beats import LEASE_SECONDS, BeatProcess
from tests.utils import wait_for

pytestmark = pytest.mark.integration

EVERY_SECONDS = 2
WINDOW_SECONDS = 20  # ten runs from one beat; twenty if both sent


@pytest.fixture
def counted_task(transactional_db):
    """The only enabled periodic task: lms.ping every EVERY_SECONDS into a queue of this test's own."""
    queue = f"beat-test-{os.getpid()}"
    PeriodicTask.objects.update(enabled=False)
    every, _ = IntervalSchedule.objects.get_or_create(every=EVERY_SECONDS, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="test: counted ping", task="lms.ping", interval=every, queue=queue)
    broker_client().delete(queue)
    yield queue
    broker_client().delete(queue)


@pytest.fixture
def beats(tmp_path):
    started: list[BeatProcess] = []

    def start(label: str) -> BeatProcess:
        beat = BeatProcess(tmp_path, label)
        started.append(beat)
        return beat.start()

    yield start
    for beat in started:
        beat.stop(signal.SIGKILL)


def _sent(queue: str) -> int:
    return broker_client().llen(queue)


def _roles() -> dict[int, str]:
    return dict(Heartbeat.objects.filter(kind="beat").values_list("pid", "role"))


def test_two_beats_send_each_periodic_task_once_and_the_standby_takes_over(counted_task, beats):
    first, second = beats("one"), beats("two")
    roles = wait_for(
        lambda: (r := _roles()) and sorted(r.values()) == ["active", "standby"] and r,
        timeout=60,
        interval=0.5,
        message="one active and one standby beat",
    )
    assert set(roles) == {first.pid, second.pid}
    active = first if roles[first.pid] == "active" else second
    standby = second if active is first else first
    assert Lease.objects.get(name=BEAT_LEASE).holder.endswith(f":{active.pid}")
    assert "standing by, another beat holds the lease" in standby.log()

    before = _sent(counted_task)
    time.sleep(WINDOW_SECONDS)
    sent = _sent(counted_task) - before
    # One beat sends about WINDOW / EVERY (10); both would send twice that.
    expected = WINDOW_SECONDS // EVERY_SECONDS
    assert expected * 0.6 <= sent <= expected * 1.3, f"{sent} runs in {WINDOW_SECONDS}s"

    active.stop(signal.SIGKILL)  # no clean stop: the lease is left to expire
    after_kill = _sent(counted_task)
    wait_for(
        lambda: _roles().get(standby.pid) == "active",
        timeout=LEASE_SECONDS * 4 + 20,
        interval=0.5,
        message="the standby beat to take the lease",
    )
    try:
        wait_for(lambda: _sent(counted_task) > after_kill + 1, timeout=30, interval=0.5, message="the new beat's runs")
    except AssertionError as exc:
        counts = f"{after_kill} then {_sent(counted_task)} sent"
        raise AssertionError(f"{exc}: {counts}; the new beat's log:\n{standby.log()[-3000:]}") from None
    assert Lease.objects.get(name=BEAT_LEASE).holder.endswith(f":{standby.pid}")


def test_a_cleanly_stopped_beat_releases_the_lease_and_its_heartbeat(counted_task, beats):
    beat = beats("only")
    wait_for(lambda: _roles().get(beat.pid) == "active", timeout=60, interval=0.5, message="the beat to be active")
    beat.stop(signal.SIGTERM)
    assert not Heartbeat.objects.filter(kind="beat").exists()
    assert not Lease.objects.filter(name=BEAT_LEASE, holder__endswith=f":{beat.pid}", expires_at__gt=_now()).exists()


def _now():
    from django.utils import timezone

    return timezone.now()
