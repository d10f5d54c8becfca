"""P12 (housekeeping at scale), its first half: the outbox relay draining a broker outage's backlog.

The backlog is what an outage leaves: rows whose request's publish failed (one attempt recorded, due now),
generated with one set-based INSERT. The relay (jobs.relay.outbox_relay, what `manage.py outbox_relay` runs
in a loop) drains it into the real Redis with no worker consuming, so the figure is the relay's alone."""

import time

from django.db import connection

from bench.environment import purge_queues
from bench.report import Row
from bench.sizes import Sizes
from jobs.models import Job
from jobs.relay import outbox_relay


def _backlog(rows: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Job._meta.db_table} (task_id, task_name, kwargs, queue, triggered_by, publish_state,
                publish_attempts, next_publish_at, last_publish_error, reconciled_count, created_at)
            SELECT gen_random_uuid()::text, 'lms.ping', jsonb_build_object('note', 'backlog ' || i), 'default',
                'bench', 'pending', 1, now() - interval '1 minute', 'ConnectionError: broker down (bench)', 0,
                now() - interval '2 minutes'
            FROM generate_series(1, %s) AS i
            """,
            [rows],
        )


def p12_relay_drain(sizes: Sizes) -> Row:
    rows = sizes.p12_relay_rows
    purge_queues()
    _backlog(rows)
    t0 = time.perf_counter()
    drained, rounds = 0, 0
    while drained < rows:
        settled = outbox_relay()
        if not settled:
            raise RuntimeError(f"P12: the relay stopped after {drained} of {rows} rows")
        drained += settled
        rounds += 1
    seconds = time.perf_counter() - t0
    left = Job.objects.filter(publish_state=Job.Publish.PENDING).count()
    purge_queues()
    rate = rows / seconds
    return Row(
        id="P12",
        what=f"outbox relay draining {rows:,} pending jobs (an outage's backlog) into Redis",
        measured=f"{rate:,.0f} publishes/s",
        target=">= 2,000 publishes/s",
        met=rate >= 2000 and left == 0,
        absolute=f"{rows:,} in {seconds:.2f} s, {rounds} rounds of up to 1,000; {left} left pending",
        raw={"rows": rows, "seconds": seconds, "rate": rate, "rounds": rounds, "left": left},
    )
