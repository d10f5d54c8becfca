"""Webhook tasks: load by id, call one service. Deliveries run on the `webhooks` queue (routed by the
`notifications.deliver_*` name) so a slow receiver never delays email or progress updates.

Retries of a failed delivery are not Celery retries: the service stores `next_attempt_at` and the beat
sweeper (`notifications.retry_due_webhooks`, every 5 s) queues what is due.
"""

from celery import shared_task

from jobs.options import RETRY_ON_DB_ERRORS
from jobs.schedules import periodic
from notifications.services import webhooks as services

__all__ = [
    "webhook_deliver_task",
    "webhook_event_fanout_task",
    "webhook_retry_due_task",
]


@shared_task(
    name="notifications.fanout_webhook_event",
    queue="webhooks",
    soft_time_limit=30,
    time_limit=60,
    **RETRY_ON_DB_ERRORS,
)
def webhook_event_fanout_task(event_type: str, object_id: int) -> str | None:
    event = services.webhook_event_fanout(event_type=event_type, object_id=object_id)
    return event.event_id if event else None


# The limits come from the service, which sizes its HTTP deadline to fit inside them and reclaims a
# delivery whose worker was killed at the hard limit. No Celery retries: a failed attempt is recorded
# and retried on the service's schedule; only a database hiccup retries the task itself.
@shared_task(
    name="notifications.deliver_webhook",
    queue="webhooks",
    soft_time_limit=services.DELIVER_SOFT_TIME_LIMIT,
    time_limit=services.DELIVER_TIME_LIMIT,
    **RETRY_ON_DB_ERRORS,
)
def webhook_deliver_task(delivery_id: int) -> dict | None:
    delivery = services.webhook_deliver(delivery_id=delivery_id)
    if delivery is None:
        return None
    return {"delivery_id": delivery.pk, "status": delivery.status, "attempts": delivery.attempts}


@periodic("Retry due webhook deliveries", every_seconds=5)
@shared_task(name="notifications.retry_due_webhooks", soft_time_limit=20, time_limit=30, ignore_result=True)
def webhook_retry_due_task() -> int:
    """Periodic (every 5 s): queue the deliveries that are due."""
    return len(services.webhook_due_claim())
