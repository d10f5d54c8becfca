"""Task options shared by the apps' task declarations."""

from django.db import InterfaceError, OperationalError

# Task options for work that only touches the database: a lost connection or a deadlock is worth a few
# quick retries with backoff (the task is idempotent, and its transaction was rolled back).
RETRY_ON_DB_ERRORS = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 30,
    "max_retries": 5,
}
