"""The beat scheduler: django-celery-beat's DatabaseScheduler, run by exactly one beat at a time.

Two beats on one database (`docker-compose up --scale celery_beat=2`, two `make run`s) would send every
periodic task twice. Each beat therefore takes a lease in the database (jobs.heartbeats.lease_acquire: one
conditional UPDATE, so it works on SQLite too) before it sends anything, and renews it at every tick, at
least every third of BEAT_LEASE_SECONDS. A beat that cannot take the lease stands by: it ticks, writes its
heartbeat as "standby", and sends nothing. When the active beat dies its lease expires and a standby takes
it over at its next tick, within BEAT_LEASE_SECONDS plus a third of it; a clean stop releases the lease at
once.

`make run` waits for BEAT_TICKED in beat's output before it says the system is up: a beat process that is
alive but never reached its tick loop (stuck on the database, a crash in the schedule sync) runs no periodic
task, and that must be visible at start-up rather than discovered when webhook retries stall. A standby
beat logs it too: it did reach its loop, and will take over.
"""

import logging
import time

from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django_celery_beat.schedulers import DatabaseScheduler as _DatabaseScheduler

BEAT_TICKED = "beat: first tick done, periodic tasks are being scheduled"

logger = logging.getLogger(__name__)


class DatabaseScheduler(_DatabaseScheduler):
    _ticked = False
    _leader = False
    _lease_until = 0.0  # monotonic time until which the lease we last took is surely ours
    _last_heartbeat = 0.0
    _heartbeat_role = ""

    def __init__(self, *args, **kwargs):
        from jobs.heartbeats import process_name

        self._holder = process_name()
        super().__init__(*args, **kwargs)

    def tick(self, *args, **kwargs):
        lease = settings.BEAT_LEASE_SECONDS
        leader = self._hold_lease(lease)
        self._heartbeat(leader)
        if not self._ticked:
            self._ticked = True
            logger.info(BEAT_TICKED)
        if not leader:
            return lease / 3
        delay = super().tick(*args, **kwargs)
        return min(delay, lease / 3, settings.HEARTBEAT_INTERVAL_SECONDS)

    def _hold_lease(self, seconds: int) -> bool:
        """Take or renew the beat lease; log when this beat becomes active or goes to standby."""
        from jobs.heartbeats import BEAT_LEASE, lease_acquire, lease_holder

        started = time.monotonic()
        try:
            close_old_connections()
            leader = lease_acquire(name=BEAT_LEASE, holder=self._holder, seconds=seconds)
            holder = None if leader else lease_holder(name=BEAT_LEASE)
        except DatabaseError:
            logger.warning("beat: the lease could not be renewed (database unreachable)", exc_info=True)
            close_old_connections()
            # Still ours until the lease we last took runs out (with a margin): no one else can have it.
            leader, holder = self._leader and started < self._lease_until, None
        if leader:
            self._lease_until = started + seconds * 2 / 3
            if not self._leader:
                logger.info("beat: holds the lease (%s), sending periodic tasks", self._holder)
                self._reload_schedule()
        elif self._leader or not self._ticked:
            logger.warning(
                "beat: standing by, another beat holds the lease (%s); this one sends nothing until it expires",
                holder.holder if holder else "unknown",
            )
        self._leader = leader
        return leader

    def _reload_schedule(self) -> None:
        # Taking over: read every entry's last run from the database (the previous beat saved them), not
        # the copy read at start-up, so tasks that ran meanwhile are not all due again at once.
        if self._ticked:
            self._schedule = self.all_as_schedule()
            self._heap = []
            self._heap_invalidated = True

    def _heartbeat(self, leader: bool) -> None:
        from jobs.heartbeats import heartbeat_record

        now, role = time.monotonic(), "active" if leader else "standby"
        if role == self._heartbeat_role and now - self._last_heartbeat < settings.HEARTBEAT_INTERVAL_SECONDS:
            return
        try:
            heartbeat_record(kind="beat", name=self._holder, role=role)
            self._last_heartbeat, self._heartbeat_role = now, role
        except DatabaseError:
            logger.warning("beat: heartbeat could not be written", exc_info=True)
            close_old_connections()

    def close(self):
        from jobs.heartbeats import BEAT_LEASE, heartbeat_remove, lease_release

        super().close()
        try:
            lease_release(name=BEAT_LEASE, holder=self._holder)
            heartbeat_remove(kind="beat", name=self._holder)
        except DatabaseError:
            logger.warning("beat: could not release the lease on stop; it expires by itself", exc_info=True)
