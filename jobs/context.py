"""Who or what is doing the current work, for the job records the enqueue seam writes."""

from collections.abc import Callable
from contextvars import ContextVar

# A label, or a function that makes one when a job is actually queued (see TriggerMiddleware).
current_trigger: ContextVar[str | Callable[[], str]] = ContextVar("current_trigger", default="system")


def trigger_label() -> str:
    """The current trigger as the text stored on a job, e.g. "user:42 POST /api/lessons/7/complete/"."""
    trigger = current_trigger.get()
    return trigger() if callable(trigger) else trigger


class TriggerMiddleware:
    """Requests name their user (or "anonymous") as the trigger of the jobs they queue.

    The user is read when a job is queued, not when the request arrives: API clients are authenticated
    by the API view (token), after every middleware has run, and DRF then sets `request.user`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        def label() -> str:
            user = getattr(request, "user", None)
            who = f"user:{user.pk}" if user is not None and user.is_authenticated else "anonymous"
            return f"{who} {request.method} {request.path}"[:120]

        token = current_trigger.set(label)
        try:
            return self.get_response(request)
        finally:
            current_trigger.reset(token)
