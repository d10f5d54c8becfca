"""Heartbeats of the long-running processes, and the lease that lets exactly one beat send periodic tasks.

Why rows in the database rather than Celery's own worker heartbeats or Redis keys: Celery's heartbeats are
events, seen only by a consumer listening at the moment (Flower), and cover workers, not beat or the relay;
keys with a TTL vanish when they expire, so nobody could tell a worker that was killed ("gone, last seen
12:03") from one that never existed. A row per process, upserted every HEARTBEAT_INTERVAL_SECONDS, works
under SQLite and PostgreSQL alike, survives a broker outage, and is what the health checks read. A clean stop
deletes the row (an operator scaling down is not an incident); a killed process leaves it to age.
"""

import logging
import os
import socket
import threading
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.utils import timezone

from jobs.models import Heartbeat, Lease

logger = logging.getLogger(__name__)

BEAT_LEASE = "beat"


def process_name() -> str:
    """host:pid, naming one beat or relay process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def heartbeat_record(*, kind: str, name: str, role: str = "", now=None) -> None:
    """Upsert this process's heartbeat row (last_seen = now). Side effect: one UPDATE, or an INSERT."""
    now = now or timezone.now()
    updated = Heartbeat.objects.filter(kind=kind, name=name).update(last_seen=now, role=role, pid=os.getpid())
    if updated:
        return
    try:
        with transaction.atomic():
            Heartbeat.objects.create(kind=kind, name=name, role=role, pid=os.getpid(), started_at=now, last_seen=now)
    except IntegrityError:  # created meanwhile by a previous life of the same name: update it
        Heartbeat.objects.filter(kind=kind, name=name).update(last_seen=now, role=role, pid=os.getpid())


def heartbeat_remove(*, kind: str, name: str) -> None:
    """A clean stop: forget this process, so that its silence is not reported as a crash."""
    Heartbeat.objects.filter(kind=kind, name=name).delete()


def heartbeats_prune(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Forget processes unseen for a day: a killed process is reported gone for that long, then dropped."""
    deleted, _ = Heartbeat.objects.filter(last_seen__lt=timezone.now() - older_than).delete()
    return deleted


def lease_acquire(*, name: str, holder: str, seconds: int, now=None) -> bool:
    """Take or renew the lease `name` for `seconds`; True when `holder` holds it now.

    One conditional UPDATE: it succeeds when the holder already holds it or when it expired, so two
    contenders never both win. The first ever acquisition INSERTs; losing that race is losing the lease.
    """
    now = now or timezone.now()
    expires_at = now + timedelta(seconds=seconds)
    current = Lease.objects.filter(name=name)
    if current.filter(holder=holder).update(expires_at=expires_at):
        return True
    if current.filter(expires_at__lt=now).update(holder=holder, expires_at=expires_at, acquired_at=now):
        return True
    if current.exists():
        return False
    try:
        with transaction.atomic():
            Lease.objects.create(name=name, holder=holder, expires_at=expires_at, acquired_at=now)
    except IntegrityError:
        return False
    return True


def lease_release(*, name: str, holder: str) -> None:
    """Give the lease up at once (a clean stop), so a standby need not wait for it to expire."""
    Lease.objects.filter(name=name, holder=holder).update(expires_at=timezone.now() - timedelta(seconds=1))


def lease_holder(*, name: str) -> Lease | None:
    return Lease.objects.filter(name=name, expires_at__gte=timezone.now()).first()


class HeartbeatThread(threading.Thread):
    """Writes one process's heartbeat every HEARTBEAT_INTERVAL_SECONDS from a daemon thread (the worker's
    main process, which runs no task itself). A failed write (database restarting) is logged and retried on
    the next beat with a new connection; stop() deletes the row."""

    def __init__(self, *, kind: str, name: str):
        super().__init__(name=f"heartbeat-{kind}", daemon=True)
        self.kind, self.process = kind, name
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.is_set():
            try:
                close_old_connections()
                heartbeat_record(kind=self.kind, name=self.process)
            except Exception:
                logger.warning("heartbeat of %s %s could not be written", self.kind, self.process, exc_info=True)
                close_old_connections()
            self._stopped.wait(settings.HEARTBEAT_INTERVAL_SECONDS)

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=5)
        try:
            heartbeat_remove(kind=self.kind, name=self.process)
        except Exception:
            logger.warning("heartbeat of %s %s could not be removed", self.kind, self.process, exc_info=True)
        finally:
            close_old_connections()
