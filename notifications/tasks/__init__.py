"""Notification tasks: email (queues `email`, `email_bulk`) and webhooks (queue `webhooks`)."""

from notifications.tasks.email import *  # noqa: F403
from notifications.tasks.webhooks import *  # noqa: F403
