"""A small process supervisor for `make run`: start commands, prefix their output, stop them all.

Why not honcho (used before): honcho starts each service from a forked copy of the Python interpreter
(multiprocessing.Process) and learns the service's pid only when that copy reports it through a queue.
Until then the service is invisible: honcho neither reports that it is missing nor can stop it. A Ctrl-C in
that window crashed honcho's kill-all with `KeyError: 'pid'` and left every child running, and a copy that
never reports (forking a process that runs other threads, as our readiness checker did, can leave the copy
waiting on a lock no thread will release) is a service that silently never starts, as beat once did. Nor
did anything check that beat was running. honcho 2.0 is also no longer maintained, and the other
supervisors (supervisord, circus) are daemons with config files, more than a development command needs.
Here each service is started by subprocess.Popen (fork and exec in C, no Python code in between), so its
pid is known the moment it exists, and devrun.run checks every service, beat included, before it says the
system is up.

Every service runs in its own session and process group, so stopping one signals the whole group: pool
processes, gunicorn workers and any grandchild go with their parent. A terminal's Ctrl-C reaches only the
supervisor, which stops everything in order; nothing receives the signal twice.
"""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Child:
    name: str
    process: subprocess.Popen
    reader: threading.Thread | None = None
    lines_seen: set[str] = field(default_factory=set)


class Supervisor:
    """Children started with `start`, their output printed as `name | line`, all stopped by `stop_all`."""

    def __init__(self, *, cwd: str, watch: tuple[str, ...] = (), out=None):
        self.cwd = cwd
        self.children: dict[str, Child] = {}
        self._watch = watch  # substrings whose appearance in a child's output is remembered (readiness)
        self._out = out or sys.stdout
        self._lock = threading.Lock()

    def say(self, text: str, *, name: str = "system") -> None:
        with self._lock:
            for line in text.splitlines() or [""]:
                self._out.write(f"{name:<6} | {line}\n")
            self._out.flush()

    def start(self, name: str, argv: list[str], *, env: dict[str, str] | None = None) -> Child:
        process = subprocess.Popen(  # noqa: S603 - argv built by devrun.run from fixed parts
            argv,
            cwd=self.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it reaches its children too
        )
        child = Child(name=name, process=process)
        self.children[name] = child
        child.reader = threading.Thread(target=self._pump, args=(child,), daemon=True, name=f"output-{name}")
        child.reader.start()
        return child

    def _pump(self, child: Child) -> None:
        for raw in iter(child.process.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            for needle in self._watch:
                if needle in line:
                    child.lines_seen.add(needle)
            self.say(line, name=child.name)
        child.process.stdout.close()

    def has_said(self, name: str, needle: str) -> bool:
        child = self.children.get(name)
        return child is not None and needle in child.lines_seen

    def exited(self) -> tuple[str, int] | None:
        """The first child found to have exited, with its exit code, or None while all run."""
        for child in self.children.values():
            code = child.process.poll()
            if code is not None:
                return child.name, code
        return None

    def wait(self, name: str, *, stop: threading.Event, poll: float = 0.2) -> int | None:
        """Wait for one child to exit (its exit code), or return None as soon as `stop` is set."""
        process = self.children[name].process
        while not stop.is_set():
            try:
                return process.wait(timeout=poll)
            except subprocess.TimeoutExpired:
                continue
        return None

    def stop_all(self, *, grace: float = 10.0) -> None:
        """SIGTERM every child's process group, SIGKILL whatever is left after `grace` seconds."""
        groups = [child.process.pid for child in self.children.values()]
        _signal_groups(groups, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _any_group_alive(groups, self.children.values()):
            time.sleep(0.1)
        _signal_groups(groups, signal.SIGKILL)  # members that outlived their leader, or ignored SIGTERM
        for child in self.children.values():
            with contextlib.suppress(subprocess.TimeoutExpired):  # unkillable (D state): nothing more to do
                child.process.wait(timeout=5)
            if child.reader is not None:
                child.reader.join(timeout=2)


def _signal_groups(groups: list[int], signum: int) -> None:
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
            os.killpg(pgid, signum)


def _any_group_alive(groups: list[int], children) -> bool:
    for child in children:
        child.process.poll()  # reap an exited leader, so an empty group reads as gone
    for pgid in groups:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            continue
        return True
    return False


def wait_until(check: Callable[[], bool], *, stop: threading.Event, timeout: float, poll: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while not stop.is_set() and time.monotonic() < deadline:
        if check():
            return True
        stop.wait(poll)
    return False
