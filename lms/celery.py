"""The Celery application: configured from Django settings (CELERY_ prefix), tasks autodiscovered."""

import logging
import os

from celery import Celery, signals
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")

app = Celery("lms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


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

    from lms.context import current_trigger
    from lms.db import drop_if_broken

    # Jobs this task queues name it as their trigger.
    current_trigger.set(f"task:{task.name}[{(task_id or '')[:8]}]")
    # A long-lived worker must not trust ids cached before content types were recreated (restore, flush).
    ContentType.objects.clear_cache()
    # A connection the previous task broke is replaced now, not after many more tasks (see drop_if_broken).
    for connection in connections.all(initialized_only=True):
        drop_if_broken(connection)
