"""Gunicorn settings read from the working directory (make run, compose, the Dockerfile's CMD).

With PROMETHEUS_MULTIPROC_DIR set, every gunicorn worker writes its metrics to files there: the files of a
previous run are removed at start, and a worker that exits is marked dead (docs/metrics.md)."""

import os


def _multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def on_starting(server) -> None:
    path = _multiprocess_dir()
    if path:
        os.makedirs(path, exist_ok=True)
        for name in os.listdir(path):
            if name.endswith(".db"):
                os.unlink(os.path.join(path, name))


def child_exit(server, worker) -> None:
    if _multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
