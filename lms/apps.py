from django.apps import AppConfig


class LmsConfig(AppConfig):
    """The project package as an app: base templates, management commands, periodic-task sync."""

    name = "lms"
    verbose_name = "LMS operations"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from lms.schedules import sync_periodic_tasks

        post_migrate.connect(sync_periodic_tasks, sender=self, dispatch_uid="lms.sync_periodic_tasks")
        _start_tracing()


def _start_tracing() -> None:
    """Traces only when OTEL_* variables ask for them (lms/tracing.py); nothing is imported otherwise."""
    import sys

    from lms import tracing

    if tracing.requested():
        args = " ".join(sys.argv)
        if "celery" in args:
            service = "lms-beat" if " beat" in args else "lms-worker"
        else:
            service = "lms-relay" if "outbox_relay" in args else "lms-web"
        tracing.setup(default_service=service)
