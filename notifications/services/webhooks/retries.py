"""When a delivery is tried again: the retry schedule with jitter, Retry-After, and the leases after which
a pending or delivering delivery is presumed lost."""

import random
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.utils import timezone

# Waits after the 1st, 2nd, ... failed attempt; after the last one fails the delivery is given up.
RETRY_SCHEDULE_SECONDS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 24 * 3600)
MAX_ATTEMPTS = len(RETRY_SCHEDULE_SECONDS) + 1
RETRY_JITTER = 0.10  # +-10%, so endpoints that failed together do not all retry in the same second
RETRY_AFTER_CAP_SECONDS = 24 * 3600
RETRY_AFTER_STATUSES = (429, 503)

# The delivery task's limits (notifications.tasks.webhooks). They must stay above the longest a send can
# take: connect + read (response headers) + read (the last body chunk), 3 + 10 + 10 s by default.
# Read once at import because the task decorator needs them; the fault suite lowers the soft limit.
DELIVER_SOFT_TIME_LIMIT = settings.WEBHOOK_TASK_SOFT_TIME_LIMIT
DELIVER_TIME_LIMIT = DELIVER_SOFT_TIME_LIMIT + 10
# A delivery still "delivering" this long after its claim was being sent by a worker that died.
DELIVERING_LEASE = timedelta(seconds=DELIVER_TIME_LIMIT + 20)
# A "pending" delivery whose message has not run within this is presumed lost (a broker outage at publish
# time) and queued again by the sweeper. Well above normal queueing delay: a duplicate is harmless (the
# row lock) but wasted work.
PENDING_LEASE = timedelta(minutes=10)
SWEEP_BATCH = 500


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """A Retry-After header (seconds or an HTTP date) as seconds from now, capped at 24 h; None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or timezone.now())).total_seconds()
    return min(max(seconds, 0.0), RETRY_AFTER_CAP_SECONDS)


def retry_delay_seconds(attempts: int) -> float | None:
    """The jittered wait after `attempts` failed attempts, or None when the schedule is exhausted."""
    if attempts > len(RETRY_SCHEDULE_SECONDS):
        return None
    base = RETRY_SCHEDULE_SECONDS[attempts - 1]
    return base * random.uniform(1 - RETRY_JITTER, 1 + RETRY_JITTER)  # noqa: S311 - jitter, not a secret
