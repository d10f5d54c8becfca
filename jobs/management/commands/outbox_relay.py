import logging
import signal
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from jobs.alerts import health_alerts_run
from jobs.heartbeats import HeartbeatThread, process_name
from jobs.relay import ROUND_LIMIT, outbox_relay

logger = logging.getLogger("lms.outbox_relay")
RELAY_STARTED = "outbox relay started"

# The relay also runs the health checks and alerts this often: a dead beat cannot run its own task for it.
HEALTH_EVERY_SECONDS = 60.0

# After a failed round (database restarting, connection killed), wait this long at most before the next.
MAX_BACKOFF_SECONDS = 30.0


class Command(BaseCommand):
    help = (
        "Publish background jobs whose after-commit publish failed (broker down, process killed). "
        "Runs until stopped, polling every --interval seconds; safe to run several at once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between rounds (default 1).")
        parser.add_argument("--once", action="store_true", help="Run one round and exit.")

    def handle(self, *args, interval: float, once: bool, **options):
        self._running = True
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        total, failures = 0, 0
        heartbeat, self._health_due = None, time.monotonic() + HEALTH_EVERY_SECONDS
        if not once:
            # Alive for the health checks (jobs.heartbeats); a clean stop removes the row.
            heartbeat = HeartbeatThread(kind="relay", name=process_name())
            heartbeat.start()
            # `make run` waits for this line before it says the system is up.
            self.stdout.write(f"{RELAY_STARTED} (every {interval:g}s)")
        while self._running:
            if once:
                total += outbox_relay()
                break
            published = self._round()
            self._health()
            failures = 0 if published is not None else failures + 1
            if published:
                total += published
                self.stdout.write(f"relayed {published} job(s) ({total} since start)")
            if published and published >= ROUND_LIMIT:
                continue  # a full round: more are due, go on at once
            time.sleep(min(MAX_BACKOFF_SECONDS, interval * 2 ** min(failures, 16)) if failures else interval)
        if heartbeat is not None:
            heartbeat.stop()
        if once:
            self.stdout.write(self.style.SUCCESS(f"relayed {total} job(s)"))

    def _round(self) -> int | None:
        """One relay round; None when it failed. A long-running process must outlive a database restart or
        a killed connection: it logs, drops the broken connection and tries again on a new one."""
        # Like a request's start: a connection left broken by the last round (or past CONN_MAX_AGE) goes.
        close_old_connections()
        try:
            return outbox_relay()
        except Exception:
            logger.exception("outbox relay round failed; retrying on a new database connection")
            close_old_connections()
            return None

    def _health(self) -> None:
        if time.monotonic() < self._health_due:
            return
        self._health_due = time.monotonic() + HEALTH_EVERY_SECONDS
        try:
            health_alerts_run()
        except Exception:
            logger.exception("health checks failed in the relay; beat's task runs them too")
            close_old_connections()

    def _stop(self, signum, frame) -> None:
        self._running = False
