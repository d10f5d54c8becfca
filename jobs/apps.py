from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Background work as a concern: jobs, the outbox, results, beat, health. It knows no other app."""

    name = "jobs"
    verbose_name = "LMS operations"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from jobs.schedules import sync_periodic_tasks

        post_migrate.connect(sync_periodic_tasks, sender=self, dispatch_uid="jobs.sync_periodic_tasks")
        _start_tracing()


def _start_tracing() -> None:
    """Traces only when OTEL_* variables ask for them (jobs/tracing.py); nothing is imported otherwise."""
    import sys

    from jobs import tracing

    if tracing.requested():
        args = " ".join(sys.argv)
        if "celery" in args:
            service = "lms-beat" if " beat" in args else "lms-worker"
        else:
            service = "lms-relay" if "outbox_relay" in args else "lms-web"
        tracing.setup(default_service=service)
