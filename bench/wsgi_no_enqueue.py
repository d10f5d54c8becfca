"""The project's WSGI app with the durable enqueue switched off: P1's baseline (same handler, no Job row,
no broker publish). Bench only; gunicorn loads it as `bench.wsgi_no_enqueue:application`.
"""

from bench.wsgi_patching import application, replace_enqueue

__all__ = ["application"]


def _enqueue_disabled(task, /, **kwargs) -> None:
    return None


PATCHED_MODULES = replace_enqueue(_enqueue_disabled)
