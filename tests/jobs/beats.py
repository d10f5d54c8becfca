"""Real `celery beat` (and worker) processes for the tests of the single-beat lease and of health: started against the
test database and broker with a short lease and heartbeat, so takeovers take seconds, not a minute."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, _database_url_for_tests

# Short enough that a takeover is quick; long enough for a loaded CI machine to renew in time.
LEASE_SECONDS = 6
HEARTBEAT_SECONDS = 2


class BeatProcess:
    def __init__(self, workdir: Path, label: str, extra_env: dict | None = None):
        self.workdir, self.label, self.extra_env = workdir, label, extra_env or {}
        self.process: subprocess.Popen | None = None
        self.pid = 0
        self.log_path = workdir / f"beat-{label}.log"

    def start(self) -> "BeatProcess":
        from django.conf import settings

        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": _database_url_for_tests(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "BEAT_LEASE_SECONDS": str(LEASE_SECONDS),
            "HEARTBEAT_INTERVAL_SECONDS": str(HEARTBEAT_SECONDS),
            **self.extra_env,
        }
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            self.command(), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.pid = self.process.pid
        return self

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "celery", "-A", "lms", "beat", "-l", "info",
            "--scheduler", "jobs.beat:DatabaseScheduler",
            "--pidfile", str(self.workdir / f"beat-{self.label}.pid"),
            "--schedule", str(self.workdir / f"beat-{self.label}-schedule"),
        ]  # fmt: skip

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


class NamedWorker(BeatProcess):
    """A worker with a node name of its own (not the session worker's), on a queue nobody else reads."""

    @property
    def node(self) -> str:
        import socket

        return f"health-{self.label}-{os.getpid()}@{socket.gethostname()}"

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "celery", "-A", "lms", "worker", "-l", "info", "-Q", "email_bulk", "-c", "1",
            "-n", self.node, "--without-gossip", "--without-mingle",
        ]  # fmt: skip
