"""Bench-only: the project's settings plus the changes docs/performance.md proposes, to measure them
before they are made (`python -m bench --settings bench.settings_proposed --only P2,P3`). Not used by the
application."""

from lms.settings import *  # noqa: F403

# Celery's Django fix-up closes every database connection before and after each task unless this is set,
# so each task paid for a new PostgreSQL connection; CONN_MAX_AGE and CONN_HEALTH_CHECKS still retire
# old or broken connections.
CELERY_DB_REUSE_MAX = 1000
