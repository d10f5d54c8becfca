"""The project's WSGI app with the durable enqueue switched off: P1's baseline (same handler, no Job row,
no broker publish). Bench only; gunicorn loads it as `bench.wsgi_no_enqueue:application`.

Services import `enqueue` by name (`from jobs.enqueue import enqueue`), so every loaded module holding that
function gets the no-op, after the URLconf (and with it every view and service module) is imported.
"""

import os
import sys

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")
application = get_wsgi_application()


def _enqueue_disabled(task, /, **kwargs) -> None:
    return None


def _disable_enqueue() -> int:
    from django.urls import get_resolver

    import jobs.enqueue

    get_resolver().url_patterns  # noqa: B018 - imports every view, and so every service module
    original = jobs.enqueue.enqueue
    patched = 0
    for module in list(sys.modules.values()):
        if getattr(module, "enqueue", None) is original:
            module.enqueue = _enqueue_disabled
            patched += 1
    return patched


PATCHED_MODULES = _disable_enqueue()
