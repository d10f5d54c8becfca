"""A bare Celery app (no Django): the baseline a no-op task costs on the same Redis broker.

Configured like the project's workers where it matters for the comparison: late acks, prefetch 1, prefork
pool, JSON; results in Redis (the same server) so a caller can wait for them.
"""

import os

from celery import Celery

BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/9")

# Never the current app: the project's code in this process (jobs.enqueue) publishes through `current_app`.
app = Celery("bare", broker=BROKER_URL, backend=BROKER_URL, set_as_current=False)
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_default_queue="bare",
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    result_expires=3600,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name="bare.noop")
def noop() -> None:
    return None
