"""Writes and side effects of outgoing webhooks, one module per seam: `endpoints` (create, change, rotate,
disable), `events` (an event and its fan-out), `delivery` (claim, sign, send, record), `retries` (when to
try again). The HTTP request itself is notifications.http.sender, beside the SSRF guard.

The database decides every step: one event per (type, object) and one delivery per (event, endpoint) are
unique constraints, and a delivery's row lock decides who sends it. A delivery's state machine:

    pending --claim--> delivering --2xx--> succeeded
                           |--failure--> retrying --(due; the sweeper)--> pending ...
                           |--410 Gone, or the last scheduled retry failed--> failed

`next_attempt_at` is when the sweeper next looks at the row: for `retrying` the scheduled retry, for
`pending` and `delivering` a lease after which the queued message (or the worker running it) is presumed
lost and the delivery is queued again. Nothing is scheduled with a Celery countdown: a retry hours away
lives in the database, not in the broker.

The HTTP request is made outside any transaction, between a short claim transaction and a short record
transaction, so no row lock is held while a slow receiver keeps us waiting.
"""

from notifications.services.webhooks.delivery import (
    webhook_body,
    webhook_deliver,
    webhook_due_claim,
    webhook_headers,
    webhook_redeliver,
)
from notifications.services.webhooks.events import TEST_EVENT_TYPE, webhook_event_fanout, webhook_send_test_event
from notifications.services.webhooks.retries import (
    DELIVER_SOFT_TIME_LIMIT,
    DELIVER_TIME_LIMIT,
    MAX_ATTEMPTS,
    retry_after_seconds,
    retry_delay_seconds,
)

__all__ = [
    "DELIVER_SOFT_TIME_LIMIT",
    "DELIVER_TIME_LIMIT",
    "MAX_ATTEMPTS",
    "TEST_EVENT_TYPE",
    "retry_after_seconds",
    "retry_delay_seconds",
    "webhook_body",
    "webhook_deliver",
    "webhook_due_claim",
    "webhook_event_fanout",
    "webhook_headers",
    "webhook_redeliver",
    "webhook_send_test_event",
]
