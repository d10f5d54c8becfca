"""Nothing lost when a whole worker (main process and pool) is SIGKILLed: a message the Redis transport had
taken from its queue but not yet recorded as unacknowledged is gone from the broker. Before the outbox
relay confirmed its delivery, the relay publishes it again (jobs.relay); after, only the reconciliation
sweep (jobs.services.jobs_reconcile_lost, run here from the test as beat runs it every minute) does."""

import functools
import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.models import Job
from jobs.relay import outbox_relay
from jobs.services import jobs_reconcile_lost
from tests.conftest import broker_client
from tests.faults.burst import Burst
from tests.notifications.webhook_receiver import receiver_fixture  # noqa: F401 - fixture
from tests.utils import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def short_reconcile(settings):
    # Well above the time a message spends between the queue and the unacked set; far below the default.
    settings.JOBS_RECONCILE_AFTER_SECONDS = 3


def test_message_lost_between_the_queue_and_a_killed_worker_is_published_again(fault_worker, short_reconcile, receiver):
    # One lesson: its sync is the only job that can complete the course (a later sync would count it too).
    burst = Burst(learners=1, lessons=1, webhook_url=receiver.url)
    burst.complete_all()  # no worker yet: the sync waits in the queue
    sync = Job.objects.get(task_name="enrollments.sync_progress")
    # The relay confirms the waiting message (the broker holds it) without publishing it again.
    assert outbox_relay(now=timezone.now() + timedelta(seconds=10)) == 1
    assert Job.objects.get(pk=sync.pk).publish_state == Job.Publish.PUBLISHED
    # What a worker killed right after BRPOP leaves: the sync is in no queue and no unacked set.
    assert broker_client().lrem("default", 0, _raw_message_of(sync)) == 1
    fault_worker()

    wait_for(lambda: burst.done(sweep=jobs_reconcile_lost), timeout=90, interval=1, message="the lost sync's work")
    assert Job.objects.get(pk=sync.pk).reconciled_count == 1
    burst.assert_each_effect_once(receiver)


def test_message_lost_before_the_relay_confirmed_it_is_published_again_by_the_relay(fault_worker, receiver):
    # What replaced the request's "published" mark: the relay proves delivery from the broker and the
    # results, and publishes again what it finds in neither.
    burst = Burst(learners=1, lessons=1, webhook_url=receiver.url)
    burst.complete_all()  # no worker yet: the sync waits in the queue, its delivery not yet confirmed
    sync = Job.objects.get(task_name="enrollments.sync_progress")
    assert sync.publish_state == Job.Publish.PENDING
    assert broker_client().lrem("default", 0, _raw_message_of(sync)) == 1  # the worker killed after BRPOP
    fault_worker()

    # Only the relay (run by burst.done as beat runs it) can bring it back: no reconciliation sweep runs.
    wait_for(burst.done, timeout=90, interval=1, message="the lost sync's work")
    relayed = Job.objects.get(pk=sync.pk)
    assert relayed.publish_state == Job.Publish.PUBLISHED and relayed.reconciled_count == 0
    burst.assert_each_effect_once(receiver)


def _raw_message_of(job: Job) -> bytes:
    return next(raw for raw in broker_client().lrange("default", 0, -1) if job.task_id.encode() in raw)


def test_worker_killed_repeatedly_during_a_burst_loses_no_work(fault_worker, short_reconcile, receiver):
    burst = Burst(learners=8, lessons=3, webhook_url=receiver.url)
    # A message held by a killed worker comes back after the visibility timeout. As in production (300 s),
    # it is longer than the time after which an email left "sending" by a dead worker is sent again
    # (notifications.services.email.SENDING_STALE_AFTER, 60 s); shorter, the redelivered send would take
    # the row for a concurrent duplicate's and leave it.
    start_worker = functools.partial(fault_worker, CELERY_VISIBILITY_TIMEOUT="65")
    workers = [start_worker()]

    def kill_the_worker_and_start_another() -> None:
        time.sleep(0.5)  # let it take messages and start on them
        workers[-1].stop(signal.SIGKILL)  # the whole process group: main process and pool
        workers.append(start_worker())

    burst.complete_all(between=kill_the_worker_and_start_another)
    for _ in range(3):  # and again while certificates, emails and webhooks are under way
        kill_the_worker_and_start_another()

    try:
        wait_for(lambda: burst.done(sweep=jobs_reconcile_lost), timeout=240, interval=1, message="the burst's work")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {burst}") from None
    burst.assert_each_effect_once(receiver)
