"""P12, its second half: pruning two million expired rows (task results and jobs) while learners complete
lessons at 4 clients. The prune runs as the nightly task does (jobs.pruning.results_prune, in batches, each
its own transaction), in a process of its own; the completions are timed against the same load without
it, and PostgreSQL is sampled meanwhile for the longest open transaction of the prune's statements (the
longest any of its locks can have been held) and for anyone waiting on a lock."""

import subprocess
import sys
import threading
import time

import psycopg
from django.conf import settings
from django.db import connection
from django_celery_results.models import TaskResult

from bench import data
from bench.environment import ROOT, child_env, purge_queues
from bench.load import ClientPlan, LoadResult, run_closed_loop
from bench.procs import Gunicorn
from bench.sizes import Sizes
from bench.stats import summarize
from jobs.models import Job

CLIENTS = 4
CHUNK = 100  # completions per client per load chunk; chunks repeat until the prune is over
COMPLETE = "/api/lessons/{}/complete/"
PRUNE = (
    "import django, json; django.setup(); from jobs.pruning import results_prune; print(json.dumps(results_prune()))"
)


def expired_rows(n: int) -> None:
    """`n` expired successful results and `n` expired published jobs (40 and 60 days old), set-based."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {TaskResult._meta.db_table} (task_id, task_name, status, content_type, content_encoding,
                result, date_created, date_done, meta, task_args, task_kwargs, periodic_task_name, worker,
                traceback, date_started)
            SELECT 'expired-' || i, 'enrollments.sync_progress', 'SUCCESS', 'application/json', 'utf-8',
                '{{"progress_percent": 50}}', now() - interval '40 days', now() - interval '40 days', '{{}}',
                '[]', '{{}}', NULL, 'bench@host', NULL, now() - interval '40 days'
            FROM generate_series(1, %s) AS i
            """,
            [n],
        )
        cursor.execute(
            f"""
            INSERT INTO {Job._meta.db_table} (task_id, task_name, kwargs, queue, triggered_by, publish_state,
                publish_attempts, last_publish_error, reconciled_count, created_at, published_at)
            SELECT gen_random_uuid()::text, 'enrollments.sync_progress', jsonb_build_object('enrollment_id', i),
                'default', 'bench', 'published', 0, '', 0, now() - interval '60 days' + (i || ' ms')::interval,
                now() - interval '60 days'
            FROM generate_series(1, %s) AS i
            """,
            [n],
        )
        cursor.execute(f"VACUUM ANALYZE {TaskResult._meta.db_table}")
        cursor.execute(f"VACUUM ANALYZE {Job._meta.db_table}")


class LockSampler(threading.Thread):
    """Every 20 ms: the age of the oldest open transaction running a DELETE (the prune's), and whether any
    backend waits for a lock."""

    def __init__(self):
        super().__init__(daemon=True)
        self.longest, self.waits, self.samples = 0.0, 0, 0
        self._done = threading.Event()

    def run(self) -> None:
        url = f"postgres://postgres@127.0.0.1:5432/{settings.DATABASES['default']['NAME']}"
        with psycopg.connect(url, autocommit=True) as conn:
            while not self._done.is_set():
                age, waiting = conn.execute(
                    """SELECT coalesce(max(extract(epoch FROM clock_timestamp() - xact_start))
                                FILTER (WHERE query ILIKE 'DELETE%%' AND state <> 'idle'), 0),
                              count(*) FILTER (WHERE wait_event_type = 'Lock')
                       FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"""
                ).fetchone()
                self.longest = max(self.longest, float(age))
                self.waits += int(waiting)
                self.samples += 1
                time.sleep(0.02)

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=5)


def _load(web: Gunicorn, plans: list[tuple[str, list[int]]], until) -> LoadResult:
    """Completions in chunks of CHUNK per client until `until()` is true (at least one chunk)."""
    merged = LoadResult()
    while True:
        chunk = [ClientPlan(token, [COMPLETE.format(lid) for lid in lessons[:CHUNK]]) for token, lessons in plans]
        for _token, lessons in plans:
            del lessons[:CHUNK]
        got = run_closed_loop(web.base_url, chunk, warmup=0)
        merged.latencies += got.latencies
        merged.statuses.update(got.statuses)
        merged.wall += got.wall
        if until() or not plans[0][1]:
            return merged


def prune_under_load(sizes: Sizes, web: Gunicorn) -> dict:
    expired_rows(sizes.p12_prune_rows)
    course = data.course("p12", lessons=sizes.p12_lessons)
    users = data.learners("p12", CLIENTS, tokens=True)
    data.enroll(users, course)
    lessons = data.lesson_ids(course.pk)
    per_client = len(lessons)
    plans = [(data.token_of(u), list(lessons)) for u in users]
    run_closed_loop(web.base_url, [ClientPlan(t, [COMPLETE.format(x) for x in ls[:10]]) for t, ls in plans], warmup=10)
    for _token, ls in plans:
        del ls[:10]
    quiet = _load(web, plans, until=lambda: True)  # one chunk without pruning
    sampler = LockSampler()
    sampler.start()
    t0 = time.perf_counter()
    prune = subprocess.Popen(
        [sys.executable, "-c", PRUNE], cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, text=True
    )
    busy = _load(web, plans, until=lambda: prune.poll() is not None)
    out, _ = prune.communicate(timeout=600)
    seconds = time.perf_counter() - t0
    sampler.stop()
    after = _load(web, plans, until=lambda: True)  # and one after, so drift shows
    purge_queues()
    if prune.returncode or not out.strip():
        raise RuntimeError(f"P12: the prune failed ({prune.returncode})")
    if len(busy.latencies) >= per_client * CLIENTS:
        raise RuntimeError("P12: the course ran out of lessons before the prune ended; raise p12_lessons")
    return {
        "pruned": out.strip().splitlines()[-1],
        "seconds": seconds,
        "quiet": summarize(quiet.latencies + after.latencies),
        "busy": summarize(busy.latencies),
        "longest_transaction": sampler.longest,
        "lock_waits": sampler.waits,
        "samples": sampler.samples,
        "statuses": set(quiet.statuses) | set(busy.statuses) | set(after.statuses),
    }
