import signal
import time

from django.core.management.base import BaseCommand

from lms.services import outbox_relay

RELAY_STARTED = "outbox relay started"


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
        total = 0
        if not once:
            # `make run` waits for this line before it says the system is up.
            self.stdout.write(f"{RELAY_STARTED} (every {interval:g}s)")
        while self._running:
            published = outbox_relay()
            total += published
            if published:
                self.stdout.write(f"relayed {published} job(s) ({total} since start)")
            if once:
                break
            time.sleep(interval)
        if once:
            self.stdout.write(self.style.SUCCESS(f"relayed {total} job(s)"))

    def _stop(self, signum, frame) -> None:
        self._running = False
