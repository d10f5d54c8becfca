"""The project's WSGI app with the durable enqueue replaced by the common practice: Django's
`transaction.on_commit(lambda: task.delay(...))` (what Celery's `delay_on_commit` does), with no Job row and
no outbox. P1's fourth configuration: what peers pay per request, against which our durability is priced.
Bench only; gunicorn loads it as `bench.wsgi_common_practice:application`.

What it gives up, and why it is not ours: a process killed between the commit and the publish, or a broker
down at that moment, loses the work for good, and staff see nothing until a worker has started it.
"""

from functools import partial

from django.db import transaction

from bench.wsgi_patching import application, replace_enqueue

__all__ = ["application"]


def _enqueue_on_commit(task, /, *, countdown=None, about=None, retry_of=None, **kwargs) -> None:
    transaction.on_commit(partial(task.apply_async, kwargs=kwargs, countdown=countdown))


PATCHED_MODULES = replace_enqueue(_enqueue_on_commit)
