"""The Celery application: configured from Django settings (CELERY_ prefix), tasks autodiscovered."""

import logging
import os
import re
from collections.abc import Mapping

import celery.app.utils
from celery import Celery, signals
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")

app = Celery("lms")

# Every message says when it was published (_stamp_sent_at): the health checks and the metrics scrape read
# the age of a queue's oldest message from it.
SENT_AT_HEADER = "lms_sent_at"
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# `celery report` (and Flower's config page) print every Django setting, masking only names that match
# Celery's HIDDEN_SETTINGS (KEY, SECRET, PASS, TOKEN, DATABASE, ...) and the broker's URL under its Celery
# name. Celery has no option for the pattern, so its filter is wrapped: names holding DSNs and
# credentials are masked too, and so is the password of any URL in any setting (CELERY_BROKER_URL,
# CACHES' LOCATION, ...).
_ALSO_HIDDEN = re.compile(r"DSN|AUTH|CREDENTIAL|PRIVATE", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+(?=@)", re.IGNORECASE)
_MASK = "*" * 8
_celery_filter_hidden_settings = celery.app.utils.filter_hidden_settings


def _mask(key, value):
    if isinstance(key, str) and _ALSO_HIDDEN.search(key) and value:
        return _MASK
    if isinstance(value, str):
        return _URL_PASSWORD.sub(lambda match: match.group("head") + _MASK, value)
    if isinstance(value, Mapping):
        return {k: _mask(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mask(None, item) for item in value)
    return value


def filter_hidden_settings(conf):
    return {key: _mask(key, value) for key, value in _celery_filter_hidden_settings(conf).items()}


celery.app.utils.filter_hidden_settings = filter_hidden_settings


@signals.import_modules.connect
def _declare_queues(sender=None, **kwargs) -> None:
    # Declared from settings so `celery worker -Q pdf` and the routes agree on one list of names.
    from django.conf import settings

    app.conf.task_queues = [Queue(name, routing_key=name) for name in settings.CELERY_TASK_QUEUES_NAMES]


@signals.worker_init.connect
def _check_services_at_worker_start(**kwargs) -> None:
    """Fail fast with one clear line when the database is unreachable, not a traceback per task."""
    from django.db import connections

    from lms.startup import check_database

    problem = check_database()
    # The prefork pool forks after this: children must open their own connections, never share ours.
    connections.close_all()
    if problem:
        logging.getLogger("lms.startup").critical(problem)
        raise SystemExit(problem)


@signals.worker_init.connect
def _worker_metrics(**kwargs) -> None:
    """Start this worker's pool counters afresh and serve them when METRICS_WORKER_PORT is set."""
    from django.conf import settings

    from lms import metrics

    metrics.wipe_multiprocess_dir()
    if settings.METRICS_WORKER_PORT:
        metrics.start_worker_server(port=settings.METRICS_WORKER_PORT, address=settings.METRICS_WORKER_ADDRESS)


@signals.worker_process_shutdown.connect
def _worker_process_gone(pid=None, **kwargs) -> None:
    from lms import metrics

    metrics.mark_process_dead(pid or os.getpid())


@signals.task_postrun.connect
def _task_runtime(task_id=None, task=None, **kwargs) -> None:
    from lms import metrics

    metrics.task_finished(task_id, task.name)


@signals.task_success.connect
def _task_succeeded(sender=None, **kwargs) -> None:
    from lms import metrics

    metrics.task_outcome(sender.name, "success")


@signals.task_failure.connect
def _task_failed(sender=None, **kwargs) -> None:
    from lms import metrics

    metrics.task_outcome(sender.name, "failure")


@signals.task_retry.connect
def _task_retried(sender=None, **kwargs) -> None:
    from lms import metrics

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

    from lms import metrics
    from lms.context import current_trigger
    from lms.db import drop_if_broken

    metrics.task_started(task_id)
    # Jobs this task queues name it as their trigger.
    current_trigger.set(f"task:{task.name}[{(task_id or '')[:8]}]")
    # A long-lived worker must not trust ids cached before content types were recreated (restore, flush).
    ContentType.objects.clear_cache()
    # A connection the previous task broke is replaced now, not after many more tasks (see drop_if_broken).
    for connection in connections.all(initialized_only=True):
        drop_if_broken(connection)


_heartbeat = None


@signals.worker_ready.connect
def _start_heartbeat(sender=None, **kwargs) -> None:
    """The worker's heartbeat row (lms.heartbeats), written from its main process while it runs."""
    global _heartbeat
    from lms.heartbeats import HeartbeatThread

    _heartbeat = HeartbeatThread(kind="worker", name=getattr(sender, "hostname", None) or "worker")
    _heartbeat.start()


@signals.worker_shutdown.connect
def _stop_heartbeat(**kwargs) -> None:
    if _heartbeat is not None:
        _heartbeat.stop()


@signals.before_task_publish.connect
def _stamp_sent_at(headers=None, **kwargs) -> None:
    """Every message says when it was published: the health checks read the oldest waiting message's age
    from it (lms.health.oldest_message_ages). A retry is stamped anew: it re-entered the queue then."""
    import time

    if headers is not None:
        headers[SENT_AT_HEADER] = time.time()
