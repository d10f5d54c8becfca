"""Task options shared by the apps' task declarations."""

from django.db import InterfaceError, OperationalError

# Task options for work that only touches the database: a lost connection or a deadlock is worth a few
# quick retries with backoff (the task is idempotent, and its transaction was rolled back).
RETRY_ON_DB_ERRORS = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 30,
    # Without jitter the five retries wait 1, 2, 4, 8 and 16 s: half a minute of database trouble is
    # outlasted. Celery's default jitter draws each wait from 0 up to that, so five retries could all be
    # spent within a second or two of a database restart (seen in the fault suite's burst test under load).
    "retry_jitter": False,
    "max_retries": 5,
}
