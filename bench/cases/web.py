"""P1 (the request with and without the durable enqueue) and P2 (lesson completed -> progress visible)."""

import time

import httpx
from django.db import connection

from bench import data
from bench.environment import purge_queues
from bench.load import ClientPlan, LoadResult, run_closed_loop
from bench.procs import Gunicorn
from bench.report import Row
from bench.sizes import Sizes
from bench.stats import fmt_ms, ratio, summarize
from enrollments.models import Enrollment

COMPLETE = "/api/lessons/{}/complete/"
ROUNDS = 2  # the two configurations alternate, so drift (table growth, autovacuum) hits both alike


def p1_enqueue_cost(sizes: Sizes, web_on: Gunicorn, web_off: Gunicorn) -> Row:
    """Closed-loop POSTs at each client count, each client its own learner completing new lessons."""
    per_client = {c: max(1, sizes.p1_requests // c // ROUNDS) for c in sizes.p1_clients}
    lessons_needed = max(ROUNDS * (per_client[c] + sizes.p1_warmup) for c in sizes.p1_clients)
    course = data.course("p1", lessons=lessons_needed)
    lessons = data.lesson_ids(course.pk)
    results: dict[tuple[str, int], LoadResult] = {}
    for clients in sizes.p1_clients:
        tokens = {}
        for label in ("off", "on"):
            users = data.learners(f"p1-{label}-{clients}", clients, tokens=True)
            data.enroll(users, course)
            tokens[label] = [data.token_of(u) for u in users]
        for round_ in range(ROUNDS):
            start = round_ * (per_client[clients] + sizes.p1_warmup)
            chunk = lessons[start : start + per_client[clients] + sizes.p1_warmup]
            for label, web in (("off", web_off), ("on", web_on)):
                plans = [ClientPlan(token, [COMPLETE.format(lid) for lid in chunk]) for token in tokens[label]]
                got = run_closed_loop(web.base_url, plans, warmup=sizes.p1_warmup)
                merged = results.setdefault((label, clients), LoadResult())
                merged.latencies += got.latencies
                merged.statuses.update(got.statuses)
                merged.wall += got.wall
    purge_queues()  # the progress syncs queued by the "on" runs: no worker consumed them (see the doc)
    for key, result in results.items():
        if set(result.statuses) != {202}:
            raise RuntimeError(f"P1 {key}: unexpected statuses {dict(result.statuses)}")

    measured, absolute, met, raw = [], [], True, {}
    p99_limit = {4: 0.050, 16: 0.200}
    for clients in sizes.p1_clients:
        on, off = summarize(results[("on", clients)].latencies), summarize(results[("off", clients)].latencies)
        r = ratio(on.p50, off.p50)
        limit = p99_limit.get(clients, 0.200)
        met = met and r <= 1.10 and on.p99 < limit
        measured.append(f"{clients} clients: p50 {r:.2f}x")
        absolute.append(
            f"{clients} clients — enqueue: {on.ms()}, {results[('on', clients)].throughput:.0f} req/s; "
            f"disabled: {off.ms()}, {results[('off', clients)].throughput:.0f} req/s"
        )
        raw[clients] = {"on": on.as_dict(), "off": off.as_dict(), "ratio_p50": r}
    return Row(
        id="P1",
        what="POST /api/lessons/{id}/complete/: durable enqueue vs enqueue disabled (gunicorn -w 4)",
        measured="; ".join(measured),
        target="p50 <= 1.10x; p99 < 50 ms at 4 clients, < 200 ms at 16",
        met=met,
        absolute="\n".join(absolute),
        raw=raw,
    )


def _read_synced(cursor, enrollment_id: int):
    cursor.execute(f"SELECT last_synced_at FROM {Enrollment._meta.db_table} WHERE id = %s", [enrollment_id])
    return cursor.fetchone()[0]


def sync_visible_latencies(web: Gunicorn, *, samples: int, warmup: int) -> list[float]:
    """One learner completes one new lesson at a time; each sample runs from the request's start until
    the enrollment's last_synced_at (what GET /api/enrollments/{id}/ shows) has changed."""
    course = data.course("p2", lessons=samples + warmup)
    (user,) = data.learners("p2", 1, tokens=True)
    (enrollment,) = data.enroll([user], course)
    latencies = []
    headers = {"Authorization": f"Token {data.token_of(user)}"}
    with httpx.Client(base_url=web.base_url, headers=headers, timeout=10) as client, connection.cursor() as cursor:
        for i, lesson_id in enumerate(data.lesson_ids(course.pk)):
            before = _read_synced(cursor, enrollment.pk)
            t0 = time.perf_counter()
            response = client.post(COMPLETE.format(lesson_id))
            if response.status_code != 202:
                raise RuntimeError(f"P2: POST answered {response.status_code}: {response.text[:200]}")
            while _read_synced(cursor, enrollment.pk) == before:
                if time.perf_counter() - t0 > 30:
                    raise RuntimeError("P2: progress sync not visible after 30 s")
                time.sleep(0.0005)
            if i >= warmup:
                latencies.append(time.perf_counter() - t0)
    return latencies


def bare_noop_round_trips(*, samples: int, warmup: int) -> list[float]:
    """Send the bare app's no-op and wait for its result (Redis pub/sub), one at a time."""
    from bench.bare_celery import noop

    latencies = []
    for i in range(samples + warmup):
        t0 = time.perf_counter()
        noop.apply_async().get(timeout=10)
        if i >= warmup:
            latencies.append(time.perf_counter() - t0)
    return latencies


def project_ping_round_trips(*, samples: int, warmup: int) -> list[float]:
    """`lms.ping` through the project's worker, result read from its TaskResult row (django-db backend)."""
    from django_celery_results.models import TaskResult

    from lms.celery import app

    latencies = []
    table = TaskResult._meta.db_table
    with connection.cursor() as cursor:
        for i in range(samples + warmup):
            t0 = time.perf_counter()
            task_id = app.send_task("lms.ping", queue="default").id
            while True:
                cursor.execute(f"SELECT status FROM {table} WHERE task_id = %s", [task_id])
                row = cursor.fetchone()
                if row and row[0] == "SUCCESS":
                    break
                if time.perf_counter() - t0 > 10:
                    raise RuntimeError("lms.ping: no result after 10 s")
                time.sleep(0.0005)
            if i >= warmup:
                latencies.append(time.perf_counter() - t0)
    return latencies


def p2_sync_latency(sizes: Sizes, web: Gunicorn) -> Row:
    bare = summarize(bare_noop_round_trips(samples=sizes.p2_samples, warmup=sizes.p2_warmup))
    ping = summarize(project_ping_round_trips(samples=sizes.p2_samples, warmup=sizes.p2_warmup))
    sync = summarize(sync_visible_latencies(web, samples=sizes.p2_samples, warmup=sizes.p2_warmup))
    r = ratio(sync.p50, bare.p50)
    return Row(
        id="P2",
        what="lesson completed (POST) -> new progress visible, vs a bare Celery no-op round trip (same Redis)",
        measured=f"p50 {r:.1f}x; p99 {fmt_ms(sync.p99)}",
        target="p50 <= 5x; p99 < 100 ms",
        met=r <= 5 and sync.p99 < 0.100,
        absolute=(
            f"completion -> visible: {sync.ms()}\nbare no-op: {bare.ms()}\n"
            f"project lms.ping (django-db result): {ping.ms()} (p50 {ratio(sync.p50, ping.p50):.1f}x of it)"
        ),
        raw={"sync": sync.as_dict(), "bare": bare.as_dict(), "ping": ping.as_dict()},
    )
