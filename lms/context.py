"""Who or what is doing the current work, for the job records the enqueue seam writes."""

from contextvars import ContextVar

current_trigger: ContextVar[str] = ContextVar("current_trigger", default="system")


class TriggerMiddleware:
    """Requests name their user (or "anonymous") as the trigger of the jobs they queue."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        trigger = f"user:{user.pk}" if user is not None and user.is_authenticated else "anonymous"
        token = current_trigger.set(f"{trigger} {request.method} {request.path}"[:120])
        try:
            return self.get_response(request)
        finally:
            current_trigger.reset(token)
