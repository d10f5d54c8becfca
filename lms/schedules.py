"""Periodic tasks, declared in code and synced into django-celery-beat's tables after every migrate.

Staff see and may change them in the admin (enable, re-time); a later migrate re-creates a deleted entry
but leaves an edited one's schedule alone unless the code's declaration changes its name.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Periodic:
    name: str
    task: str
    crontab: dict | None = None  # minute, hour, day_of_week, day_of_month, month_of_year
    every_seconds: int | None = None
    kwargs: dict = field(default_factory=dict)
    queue: str | None = None


PERIODIC_TASKS: list[Periodic] = [
    Periodic(name="Prune old task results and jobs", task="lms.prune_results", crontab={"minute": "30", "hour": "3"}),
    Periodic(name="Mark jobs stuck past their time limit failed", task="lms.sweep_stuck_jobs", every_seconds=60),
    Periodic(name="Publish again jobs the broker lost", task="lms.reconcile_lost_jobs", every_seconds=60),
    Periodic(name="Run health checks and alert", task="lms.health_alerts", every_seconds=60),
    Periodic(name="Relay unpublished jobs (outbox)", task="lms.relay_outbox", every_seconds=10),
    Periodic(name="Retry due webhook deliveries", task="notifications.retry_due_webhooks", every_seconds=5),
    Periodic(
        name="Nightly course analytics", task="enrollments.recompute_all_stats", crontab={"minute": "15", "hour": "2"}
    ),
    Periodic(
        name="Issue certificates whose learner has given a name",
        task="certificates.issue_named_waiting",
        every_seconds=300,
    ),
    Periodic(
        name="Regenerate certificates after a template change",
        task="certificates.regenerate_outdated",
        crontab={"minute": "45", "hour": "*"},
    ),
]


def sync_periodic_tasks(sender=None, using="default", verbosity=1, **kwargs) -> None:
    """Create or update the beat rows for PERIODIC_TASKS (keyed by name)."""
    import json

    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    for item in PERIODIC_TASKS:
        defaults = {"task": item.task, "kwargs": json.dumps(item.kwargs), "queue": item.queue}
        if item.crontab is not None:
            spec = {"minute": "*", "hour": "*", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"}
            spec.update(item.crontab)
            schedule, _ = CrontabSchedule.objects.using(using).get_or_create(**spec, timezone="UTC")
            defaults.update(crontab=schedule, interval=None)
        else:
            schedule, _ = IntervalSchedule.objects.using(using).get_or_create(
                every=item.every_seconds, period=IntervalSchedule.SECONDS
            )
            defaults.update(interval=schedule, crontab=None)
        task, created = PeriodicTask.objects.using(using).get_or_create(name=item.name, defaults=defaults)
        if not created and task.task != item.task:
            for key, value in defaults.items():
                setattr(task, key, value)
            task.save()
