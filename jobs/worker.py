"""The Celery hooks of background work, connected when the Celery app loads (lms/celery.py imports this).

Every hook imports what it needs when it runs: this module is imported before Django is set up.
"""

import logging
import os

from celery import signals

# Every message says when it was published (_stamp_sent_at): the health checks and the metrics scrape read
# the age of a queue's oldest message from it.
SENT_AT_HEADER = "lms_sent_at"


@signals.worker_init.connect
def _check_services_at_worker_start(**kwargs) -> None:
    """Fail fast with one clear line when the database is unreachable, not a traceback per task."""
    from django.db import connections

    from core.reachability import check_database

    problem = check_database()
    # The prefork pool forks after this: children must open their own connections, never share ours.
    connections.close_all()
    if problem:
        logging.getLogger("core.reachability").critical(problem)
        raise SystemExit(problem)


@signals.worker_init.connect
def _worker_metrics(**kwargs) -> None:
    """Start this worker's pool counters afresh and serve them when METRICS_WORKER_PORT is set."""
    from django.conf import settings

    from jobs import metrics

    metrics.wipe_multiprocess_dir()
    if settings.METRICS_WORKER_PORT:
        metrics.start_worker_server(port=settings.METRICS_WORKER_PORT, address=settings.METRICS_WORKER_ADDRESS)


@signals.worker_process_shutdown.connect
def _worker_process_gone(pid=None, **kwargs) -> None:
    from jobs import metrics

    metrics.mark_process_dead(pid or os.getpid())


@signals.task_postrun.connect
def _task_runtime(task_id=None, task=None, **kwargs) -> None:
    from jobs import metrics

    metrics.task_finished(task_id, task.name)


@signals.task_success.connect
def _task_succeeded(sender=None, **kwargs) -> None:
    from jobs import metrics

    metrics.task_outcome(sender.name, "success")


@signals.task_failure.connect
def _task_failed(sender=None, **kwargs) -> None:
    from jobs import metrics

    metrics.task_outcome(sender.name, "failure")


@signals.task_retry.connect
def _task_retried(sender=None, **kwargs) -> None:
    from jobs import metrics

    metrics.task_outcome(sender.name, "retry")


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _task_log_format(logger, *args, **kwargs) -> None:
    # Every line logged while a task runs (by Celery or by our own modules) carries the task's name and
    # id, so a log search finds one run; lines outside a task show "???".
    from celery.app.log import TaskFormatter

    for handler in logger.handlers:
        handler.setFormatter(
            TaskFormatter(
                "[%(asctime)s: %(levelname)s/%(processName)s] %(task_name)s[%(task_id)s] %(name)s: %(message)s"
            )
        )


@signals.task_prerun.connect
def _job_context(task_id=None, task=None, **kwargs) -> None:
    from django.contrib.contenttypes.models import ContentType
    from django.db import connections

    from jobs import metrics
    from jobs.context import current_trigger
    from jobs.db import drop_if_broken

    metrics.task_started(task_id)
    # Jobs this task queues name it as their trigger.
    current_trigger.set(f"task:{task.name}[{(task_id or '')[:8]}]")
    # A long-lived worker must not trust ids cached before content types were recreated (restore, flush).
    ContentType.objects.clear_cache()
    # A connection the previous task broke is replaced now, not after many more tasks (see drop_if_broken).
    for connection in connections.all(initialized_only=True):
        drop_if_broken(connection)
    if task.ignore_result:
        # No TaskResult will say this job reached a worker: the worker says so, for the relay (jobs.relay).
        from jobs.relay import job_confirm_started

        job_confirm_started(task_id=task_id)


_heartbeat = None


@signals.worker_ready.connect
def _start_heartbeat(sender=None, **kwargs) -> None:
    """The worker's heartbeat row (jobs.heartbeats), written from its main process while it runs."""
    global _heartbeat
    from jobs.heartbeats import HeartbeatThread

    _heartbeat = HeartbeatThread(kind="worker", name=getattr(sender, "hostname", None) or "worker")
    _heartbeat.start()


@signals.worker_shutdown.connect
def _stop_heartbeat(**kwargs) -> None:
    if _heartbeat is not None:
        _heartbeat.stop()


@signals.before_task_publish.connect
def _stamp_sent_at(headers=None, **kwargs) -> None:
    """Every message says when it was published: the health checks read the oldest waiting message's age
    from it (jobs.health.oldest_message_ages). A retry is stamped anew: it re-entered the queue then."""
    import time

    if headers is not None:
        headers[SENT_AT_HEADER] = time.time()
