"""P3: progress syncs per second through the project's worker vs a bare Celery no-op (same broker, pool,
concurrency). Each side fills its queue while its worker is paused, then times the drain."""

import time

from django.db import connection, transaction

from bench import data
from bench.environment import redis_client
from bench.procs import Worker
from bench.report import Row
from bench.sizes import Sizes
from bench.stats import fmt_s, ratio
from enrollments.models import Enrollment
from enrollments.services import enrollment_request_progress_sync

TIMEOUT = 300


def _wait(done, n: int, t0: float, what: str) -> float:
    while True:
        if done() >= n:
            return time.perf_counter() - t0
        if time.perf_counter() - t0 > TIMEOUT:
            raise RuntimeError(f"P3 {what}: {done()}/{n} done after {TIMEOUT} s")
        time.sleep(0.005)


def project_sync_drain(worker: Worker, n: int) -> float:
    course = data.course("p3", lessons=10)
    ids = data.partial_enrollments("p3", n, course, done=3)  # last_synced_at is NULL until synced
    worker.pause("default")
    with transaction.atomic():
        for enrollment_id in ids:
            enrollment_request_progress_sync(enrollment_id=enrollment_id)
    # The publishes ran on commit; every message is on the queue before the clock starts.
    queued = redis_client().llen("default")
    if queued < n:
        raise RuntimeError(f"P3: only {queued}/{n} sync messages queued")

    def done() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM {Enrollment._meta.db_table} WHERE id = ANY(%s) AND last_synced_at IS NOT NULL",
                [ids],
            )
            return cursor.fetchone()[0]

    t0 = time.perf_counter()
    worker.resume("default")
    return _wait(done, n, t0, "progress syncs")


def bare_noop_drain(worker: Worker, n: int) -> float:
    from bench.bare_celery import noop

    worker.pause("bare")
    keys = [f"celery-task-meta-{noop.apply_async().id}" for _ in range(n)]
    client = redis_client()
    if client.llen("bare") < n:
        raise RuntimeError("P3: bare no-ops not all queued")
    t0 = time.perf_counter()
    worker.resume("bare")
    return _wait(lambda: client.exists(*keys), n, t0, "bare no-ops")


def p3_throughput(sizes: Sizes, project_worker: Worker, bare_worker: Worker) -> Row:
    n = sizes.p3_tasks
    bare_s = bare_noop_drain(bare_worker, n)
    sync_s = project_sync_drain(project_worker, n)
    sync_rate, bare_rate = n / sync_s, n / bare_s
    r = ratio(sync_rate, bare_rate)
    return Row(
        id="P3",
        what="progress-sync tasks/s through the project's worker vs bare Celery no-ops (prefork -c 2, same Redis)",
        measured=f"{r:.2f}x",
        target=">= 0.5x",
        met=r >= 0.5,
        absolute=(
            f"progress syncs: {sync_rate:.0f}/s ({n} in {fmt_s(sync_s)}); "
            f"bare no-ops: {bare_rate:.0f}/s ({n} in {fmt_s(bare_s)})"
        ),
        raw={"n": n, "sync_seconds": sync_s, "bare_seconds": bare_s, "ratio": r},
    )
