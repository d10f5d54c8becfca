"""P12 (housekeeping at scale): the outbox relay draining a broker outage's backlog, and pruning under load
(bench/cases/pruning.py).

The backlog is what an outage leaves: rows whose request's publish failed (one attempt recorded, due now),
generated with one set-based INSERT. The relay (jobs.relay.outbox_relay, what `manage.py outbox_relay` runs
in a loop) drains it into the real Redis with no worker consuming, so the figure is the relay's alone."""

import time

from django.db import connection

from bench.cases.pruning import prune_under_load
from bench.environment import purge_queues
from bench.procs import Gunicorn
from bench.report import Row
from bench.sizes import Sizes
from bench.stats import fmt_ms, ratio
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


def _relay_drain(rows: int) -> dict:
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
    return {"rows": rows, "seconds": seconds, "rate": rows / seconds, "rounds": rounds, "left": left}


def p12_housekeeping(sizes: Sizes, web: Gunicorn) -> Row:
    relay = _relay_drain(sizes.p12_relay_rows)
    prune = prune_under_load(sizes, web)
    p99_ratio = ratio(prune["busy"].p99, prune["quiet"].p99)
    met = (
        relay["rate"] >= 2000
        and relay["left"] == 0
        and p99_ratio <= 1.5
        and prune["longest_transaction"] < 1.0
        and prune["statuses"] == {202}
    )
    return Row(
        id="P12",
        what=f"housekeeping: the relay draining {relay['rows']:,} pending jobs; pruning {2 * sizes.p12_prune_rows:,} "
        "expired results and jobs while lessons are completed at 4 clients (gunicorn -w 4)",
        measured=f"relay {relay['rate']:,.0f} publishes/s; completions p99 {p99_ratio:.2f}x while pruning; "
        f"longest prune transaction {fmt_ms(prune['longest_transaction'])}",
        target=">= 2,000 publishes/s; p99 <= 1.5x without pruning; no lock held > 1 s",
        met=met,
        absolute=(
            f"relay: {relay['rows']:,} in {relay['seconds']:.2f} s, {relay['rounds']} rounds of up to 1,000, "
            f"{relay['left']} left pending\n"
            f"prune: {prune['pruned']} in {prune['seconds']:.1f} s; completions while pruning: {prune['busy'].ms()}; "
            f"without (before and after): {prune['quiet'].ms()}; {prune['lock_waits']} of {prune['samples']} "
            "samples of pg_stat_activity saw a backend waiting for a lock"
        ),
        raw={
            "relay": relay,
            "prune": {
                k: (v.as_dict() if hasattr(v, "as_dict") else sorted(v) if isinstance(v, set) else v)
                for k, v in prune.items()
            },
        },
    )
