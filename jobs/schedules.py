"""Periodic tasks, declared in code and synced into django-celery-beat's tables after every migrate.

Each app declares its own next to the task (`periodic` below); this module knows no app. Staff see and may
change them in the admin (enable, re-time); a later migrate re-creates a deleted entry
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


_PERIODIC: dict[str, Periodic] = {}


def periodic(name: str, *, crontab: dict | None = None, every_seconds: int | None = None, **options):
    """Declare the decorated task periodic, beside its declaration in its own app's tasks.py:

        @periodic("Retry due webhook deliveries", every_seconds=5)
        @shared_task(name="notifications.retry_due_webhooks", ...)
        def webhook_retry_due_task() -> int: ...

    `name` is the beat entry's name (what staff see in the admin, and its key); one of crontab (minute,
    hour, ...) or every_seconds.
    """
    if (crontab is None) == (every_seconds is None):
        raise ValueError(f"{name}: give exactly one of crontab or every_seconds")

    def register(task):
        options.setdefault("queue", getattr(task, "queue", None))  # beat sends it where the task declares
        _PERIODIC[name] = Periodic(name=name, task=task.name, crontab=crontab, every_seconds=every_seconds, **options)
        return task

    return register


def periodic_tasks() -> list[Periodic]:
    """Every periodic task the installed apps declare (their tasks modules are imported first)."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("tasks")
    return list(_PERIODIC.values())


def sync_periodic_tasks(sender=None, using="default", verbosity=1, **kwargs) -> None:
    """Create or update the beat rows of the declared periodic tasks (keyed by name)."""
    import json

    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    for item in periodic_tasks():
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
        elif not created and task.queue != item.queue:  # the task moved queue: its schedule stays as staff left it
            task.queue = item.queue
            task.save(update_fields=["queue"])
