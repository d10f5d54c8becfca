"""Acceptance of `make run` (issue 16): every first run works, and every stop leaves nothing behind.

Each round starts `python -m devrun.run` (what `make run` runs) with the venv, on its own free ports and its
own fresh var directory, on the embedded defaults (SQLite, embedded Redis). A full round waits for every
service to report it is up and for "LMS is running", sees a periodic task run, has the worker sync a lesson
completion made through the API, checks that links in emails point at the port served and that the API's
throttle is shared by the web processes, then stops the run with SIGINT or SIGTERM. Other rounds send
SIGINT during start-up. One round in three runs while two busy processes keep both cores busy. After every
stop no process of the run is left and no traceback was printed.

Marked `runner` (deselected by default, about a minute a round): `pytest -m runner`; RUNNER_ROUNDS sets
the number of rounds (3 by default, CI; 10 for the full version).
"""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from devrun.embedded import free_port
from devrun.management.commands.seed_demo import LEARNERS

pytestmark = pytest.mark.runner

ROOT = Path(__file__).resolve().parent.parent.parent
ROUNDS = int(os.environ.get("RUNNER_ROUNDS", "3"))
UP_TIMEOUT = 150  # generous: one round runs beside two busy processes on a small machine
STOP_TIMEOUT = 40
PERIODIC = r"Task (notifications\.retry_due_webhooks|lms\.relay_outbox|lms\.sweep_stuck_jobs)\[\S+\] succeeded"
# Which stop each round tests, in turn.
STOPS = ("SIGINT", "SIGTERM", "SIGINT while migrating", "SIGINT", "SIGTERM", "SIGINT while services start")
SERVICES = ("web", "worker", "beat", "relay", "flower")


class Run:
    """One `python -m devrun.run` in its own session, its output in a file, its processes found by a tag."""

    def __init__(self, tmp_path: Path, **extra_env: str):
        self.port, self.flower_port = free_port(), free_port()
        self.log_path = tmp_path / "run.log"
        self.tag = f"LMS_RUNNER_TEST_TAG={os.getpid()}-{time.monotonic_ns()}"
        env = {k: v for k, v in os.environ.items() if not _inherited_setting(k)}
        env.update(
            PORT=str(self.port),
            FLOWER_PORT=str(self.flower_port),
            LMS_VAR_DIR=str(tmp_path / "var"),
            LMS_RUN_READY_TIMEOUT=str(UP_TIMEOUT - 10),
            LMS_RUNNER_TEST_TAG=self.tag.partition("=")[2],
        )
        env.update(extra_env)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "devrun.run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        self.web = f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, pattern: str, *, timeout: float, after: int = 0) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            match = re.compile(pattern, re.MULTILINE).search(self.log(), after)
            if match:
                return match
            assert self.process.poll() is None, f"devrun.run exited (code {self.process.returncode}):\n{self.tail()}"
            assert time.monotonic() < deadline, f"no {pattern!r} within {timeout:g}s:\n{self.tail()}"
            time.sleep(0.2)

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def processes(self) -> dict[int, str]:
        """Every live process of this run: those carrying its tag, and the embedded redis-server (which
        overwrites its environment with its title), by the pid devrun.run printed."""
        found = {}
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                if self.tag.encode() in (proc / "environ").read_bytes().split(b"\0"):
                    found[int(proc.name)] = _cmdline(proc)
            except OSError:  # gone meanwhile, or not ours to read
                continue
        redis = re.search(r"^Embedded Redis at \S+ \(pid (\d+)\)$", self.log(), re.MULTILINE)
        if redis and "redis-server" in _cmdline(Path(f"/proc/{redis.group(1)}")):
            found[int(redis.group(1))] = "redis-server"
        return {pid: cmd for pid, cmd in found.items() if _alive(pid)}

    def stop(self, signum: int) -> None:
        os.kill(self.process.pid, signum)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pytest.fail(f"devrun.run still running {STOP_TIMEOUT}s after {signum!r}:\n{self.tail()}")
        deadline = time.monotonic() + 10
        while (left := self.processes()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not left, f"left running after {signal.Signals(signum).name}: {left}"
        assert "Traceback" not in self.log(), self.tail(200)

    def kill_leftovers(self) -> None:
        for pid in [self.process.pid, *self.processes()]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


def _inherited_setting(name: str) -> bool:
    # The run must use its embedded defaults and lms.settings, not the test session's services.
    return name in (
        "DJANGO_SETTINGS_MODULE", "DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "RATELIMIT_CACHE_URL",
        "SITE_URL", "DEBUG", "HOST", "PORT", "FLOWER_PORT", "FLOWER_BASIC_AUTH", "LMS_VAR_DIR",
    )  # fmt: skip


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie is dead, waiting for its parent to read its status


def _api(url: str, *, data: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    body = json.dumps(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _wait_until(predicate, *, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"timed out after {timeout:g}s waiting for {message}"
        time.sleep(0.5)
    return value


def _use_the_running_system(run: Run) -> None:
    # Every service said it is up, then the banner.
    banner = run.wait_for(r"LMS is running", timeout=UP_TIMEOUT)
    before_banner = run.log()[: banner.start()]
    for name in SERVICES:
        assert f"| {name} is up" in before_banner, run.tail()
    assert f"Web:    {run.web}/" in run.log()

    # Beat schedules and the worker runs periodic tasks: one runs within 30 s of the banner.
    run.wait_for(PERIODIC, timeout=30, after=banner.end())

    # A lesson completed through the API is synced by the worker.
    learner = LEARNERS[1]  # no seeded enrollment: enrolling and completing are new work
    status, body = _api(f"{run.web}/api/auth/token/", data={"email": learner["email"], "password": learner["password"]})
    assert status == 200, body
    token = body["token"]
    status, body = _api(f"{run.web}/api/courses/")
    slug = body["results"][0]["slug"]
    status, course = _api(f"{run.web}/api/courses/{slug}/")
    status, enrollment = _api(f"{run.web}/api/courses/{slug}/enroll/", data={}, token=token)
    assert status in (200, 201), enrollment
    status, body = _api(f"{run.web}/api/lessons/{course['lessons'][0]['id']}/complete/", data={}, token=token)
    assert status == 202, body
    synced = _wait_until(
        lambda: (
            (body := _api(f"{run.web}/api/enrollments/{enrollment['id']}/", token=token)[1])["last_synced_at"] and body
        ),
        timeout=60,
        message="the worker to sync the lesson completion",
    )
    assert synced["progress_percent"] > 0

    # The enrollment email (printed by the worker's console backend) links to the port this run serves.
    run.wait_for(re.escape(f'href="{run.web}/courses/{slug}/"'), timeout=60)
    assert "127.0.0.1:8000" not in run.log()

    # The token endpoint's throttle (20/min) counts requests of both gunicorn workers together.
    credentials = {"email": learner["email"], "password": learner["password"]}
    statuses = [_api(f"{run.web}/api/auth/token/", data=credentials)[0] for _ in range(45)]
    assert statuses.count(200) <= 20 and set(statuses) <= {200, 429}, statuses


def _busy_cores() -> list[subprocess.Popen]:
    return [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
        for _ in range(os.cpu_count() or 2)
    ]


@pytest.mark.parametrize("round_number", range(1, ROUNDS + 1))
def test_make_run_starts_whole_and_stops_clean(round_number, tmp_path):
    stop = STOPS[(round_number - 1) % len(STOPS)]
    busy = _busy_cores() if round_number % 3 == 2 else []
    run = Run(tmp_path)
    try:
        if stop == "SIGINT while migrating":
            run.wait_for(r"^migrate\s+\| ", timeout=UP_TIMEOUT)
            run.stop(signal.SIGINT)
        elif stop == "SIGINT while services start":
            run.wait_for(r"^(web|worker|beat|relay|flower)\s+\| ", timeout=UP_TIMEOUT)
            run.stop(signal.SIGINT)
        else:
            _use_the_running_system(run)
            run.stop(getattr(signal, stop))
        assert "Stopped." in run.log()
    finally:
        for process in busy:
            process.kill()
            process.wait()
        run.kill_leftovers()


def _wait_for_exit(run: Run) -> int:
    try:
        return run.process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"devrun.run did not stop by itself:\n{run.tail()}")


def _nothing_left(run: Run) -> None:
    deadline = time.monotonic() + 10
    while (left := run.processes()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"left running: {left}"
    assert "Traceback" not in run.log(), run.tail(200)


def test_a_service_not_up_in_time_is_named_and_everything_stops(tmp_path):
    run = Run(tmp_path, LMS_RUN_READY_TIMEOUT="0.5")
    try:
        assert _wait_for_exit(run) == 1
        line = run.wait_for(r"^make run: not up after 0\.5s: .*; stopping everything\.$", timeout=1).group(0)
        assert "LMS is running" not in run.log()
        _nothing_left(run)
        # The line names the services that were not up, and only those.
        named = line.split(": ", 2)[2].split(";")[0].split(", ")
        assert named and set(named) <= set(SERVICES)
        assert not any(f"| {name} is up" in run.log() for name in named)
    finally:
        run.kill_leftovers()


def test_a_service_that_dies_is_named_and_everything_stops(tmp_path):
    run = Run(tmp_path)
    try:
        run.wait_for(r"LMS is running", timeout=UP_TIMEOUT)
        beat = [pid for pid, cmd in run.processes().items() if " beat " in cmd]
        assert len(beat) == 1, run.processes()
        os.kill(beat[0], signal.SIGKILL)
        assert _wait_for_exit(run) == 1
        run.wait_for(r"^make run: beat exited \(code -9\); stopping everything\.$", timeout=1)
        _nothing_left(run)
    finally:
        run.kill_leftovers()
