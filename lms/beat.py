"""The beat scheduler: django-celery-beat's DatabaseScheduler, saying once that it really ticks.

`make run` waits for BEAT_TICKED in beat's output before it says the system is up: a beat process that
is alive but never reached its tick loop (stuck on the database, a crash in the schedule sync) runs no
periodic task, and that must be visible at start-up rather than discovered when webhook retries stall.
"""

import logging

from django_celery_beat.schedulers import DatabaseScheduler as _DatabaseScheduler

BEAT_TICKED = "beat: first tick done, periodic tasks are being scheduled"

logger = logging.getLogger(__name__)


class DatabaseScheduler(_DatabaseScheduler):
    _ticked = False

    def tick(self, *args, **kwargs):
        delay = super().tick(*args, **kwargs)
        if not self._ticked:
            self._ticked = True
            logger.info(BEAT_TICKED)
        return delay
