"""P5 (certificate issue vs a raw xhtml2pdf render; 1,000 issued end to end) and P6 (progress syncs while
certificate renders are queued: dedicated queues vs one queue)."""

import time

from django.db import connection, transaction
from django.utils import timezone

from bench import data
from bench.procs import Worker
from bench.report import Row
from bench.sizes import Sizes
from bench.stats import fmt_ms, fmt_s, ratio, summarize
from certificates import rendering
from certificates.models import Certificate
from certificates.services import certificate_issue, certificate_request_issue
from enrollments.models import Enrollment
from enrollments.services import enrollment_request_progress_sync

ISSUE_TASK = "certificates.issue_certificate"


def _issued(ids: list[int]) -> int:
    return Certificate.objects.filter(enrollment_id__in=ids, status=Certificate.Status.ISSUED).count()


def _wait_issued(ids: list[int], timeout: float, what: str) -> None:
    deadline = time.perf_counter() + timeout
    while _issued(ids) < len(ids):
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{what}: {_issued(ids)}/{len(ids)} certificates issued after {timeout:.0f} s")
        time.sleep(0.05)


def raw_render_times(n: int, warmup: int) -> list[float]:
    times = []
    for i in range(n + warmup):
        t0 = time.perf_counter()
        rendering.render_pdf(
            learner_name=f"Ada Lovelace {i}",
            course_title="Bench certificates",
            issued_on=timezone.now(),
            display_code="ABCD-EFGH-JKLM-NPQR",
            verification_url=f"http://127.0.0.1:8000/certificates/verify/ABCDEFGHJKLMNPQR{i}/",
        )
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    return times


def service_issue_times(course, n: int, warmup: int) -> list[float]:
    ids = data.completed_enrollments("p5-service", n + warmup, course)
    times = []
    for i, enrollment_id in enumerate(ids):
        t0 = time.perf_counter()
        certificate = certificate_issue(enrollment_id=enrollment_id)
        if i >= warmup:
            times.append(time.perf_counter() - t0)
        if certificate is None or certificate.status != Certificate.Status.ISSUED:
            raise RuntimeError(f"P5: certificate_issue did not issue for enrollment {enrollment_id}")
    return times


def end_to_end(course, n: int) -> float:
    """Queue `n` issues through the enqueue seam (as the enrollment_completed receiver does); the clock
    runs from the first enqueue until every certificate row is issued with its PDF stored."""
    ids = data.completed_enrollments("p5-e2e", n, course)
    t0 = time.perf_counter()
    with transaction.atomic():
        for enrollment_id in ids:
            certificate_request_issue(enrollment_id=enrollment_id)
    _wait_issued(ids, 600, "P5 end to end")
    return time.perf_counter() - t0


def p5_in_process(sizes: Sizes) -> dict:
    course = data.course("p5", lessons=1)
    raw = summarize(raw_render_times(sizes.p5_renders, sizes.p5_warmup))
    service = summarize(service_issue_times(course, sizes.p5_renders, sizes.p5_warmup))
    return {"course": course, "raw": raw, "service": service}


def p5_row(sizes: Sizes, measured: dict, pdf_worker: Worker) -> Row:
    wall = end_to_end(measured["course"], sizes.p5_certificates)
    raw, service = measured["raw"], measured["service"]
    r = ratio(service.p95, raw.p95)
    n = sizes.p5_certificates
    return Row(
        id="P5",
        what=f"certificate_issue (DB + storage) vs a raw xhtml2pdf render, p95; {n:,} issued end to end (pdf -c 2)",
        measured=f"p95 {r:.2f}x; {n:,} in {fmt_s(wall)}",
        # The absolute limit stays the issue's: wall time follows the host's speed, which halved between two
        # runs on this machine (docs/performance.md); the ratio is the figure that carries across.
        target="<= 1.5x raw; 1,000 in < 20 s (raised by issue 20 from 2x and 60 s)",
        met=r <= 1.5 and (wall < 20 if n >= 1000 else None),
        absolute=(
            f"certificate_issue: {service.ms()}\nraw render_pdf: {raw.ms()}\nend to end: {n / wall:.1f} certificates/s"
        ),
        raw={"raw": raw.as_dict(), "service": service.as_dict(), "n": n, "wall": wall},
    )


def sync_latencies_under_render_backlog(*, renders: list[int], render_queue: str, syncs: list[int], interval: float):
    """Queue the renders, then send one progress sync every `interval` s (open loop) and time each from
    its enqueue until its enrollment's last_synced_at changes. Returns (latencies, seconds to drain renders)."""
    from lms.celery import app

    t_renders = time.perf_counter()
    for enrollment_id in renders:
        app.send_task(ISSUE_TASK, kwargs={"enrollment_id": enrollment_id}, queue=render_queue)
    table = Enrollment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, last_synced_at FROM {table} WHERE id = ANY(%s)", [syncs])
        before = dict(cursor.fetchall())
        sent: dict[int, float] = {}
        seen: dict[int, float] = {}
        queue = list(syncs)
        next_send = time.perf_counter()
        deadline = next_send + 600
        while len(seen) < len(syncs):
            now = time.perf_counter()
            if queue and now >= next_send:
                enrollment_id = queue.pop(0)
                sent[enrollment_id] = time.perf_counter()
                with transaction.atomic():
                    enrollment_request_progress_sync(enrollment_id=enrollment_id)
                next_send += interval
            pending = [i for i in sent if i not in seen]
            if pending:
                cursor.execute(f"SELECT id, last_synced_at FROM {table} WHERE id = ANY(%s)", [pending])
                now = time.perf_counter()
                for enrollment_id, synced in cursor.fetchall():
                    if synced != before[enrollment_id]:
                        seen[enrollment_id] = now
            if now > deadline:
                raise RuntimeError(f"P6: {len(seen)}/{len(syncs)} syncs seen after 600 s")
            time.sleep(0.001)
    _wait_issued(renders, 600, "P6 renders")
    return [seen[i] - sent[i] for i in syncs], time.perf_counter() - t_renders


def p6_prepare(sizes: Sizes) -> dict:
    cert_course = data.course("p6-certs", lessons=1)
    sync_course = data.course("p6-syncs", lessons=10)
    return {
        "renders": {
            "one": data.completed_enrollments("p6-one", sizes.p6_renders, cert_course),
            "named": data.completed_enrollments("p6-named", sizes.p6_renders, cert_course),
        },
        "syncs": {
            "one": data.partial_enrollments("p6s-one", sizes.p6_syncs, sync_course, done=3),
            "named": data.partial_enrollments("p6s-named", sizes.p6_syncs, sync_course, done=3),
        },
    }


def p6_measure(sizes: Sizes, prepared: dict, config: str) -> dict:
    latencies, drain = sync_latencies_under_render_backlog(
        renders=prepared["renders"][config],
        render_queue="default" if config == "one" else "pdf",
        syncs=prepared["syncs"][config],
        interval=sizes.p6_sync_interval,
    )
    return {"sync": summarize(latencies), "drain": drain}


def p6_row(sizes: Sizes, one: dict, named: dict) -> Row:
    r = ratio(one["sync"].p99, named["sync"].p99)
    return Row(
        id="P6",
        what=(
            f"progress-sync p99 while {sizes.p6_renders} certificate renders are queued: named queues "
            "(default -c 1 + pdf -c 1) vs one queue (default -c 2)"
        ),
        measured=f"{r:.0f}x better (p99 {fmt_ms(named['sync'].p99)} vs {fmt_ms(one['sync'].p99)})",
        target=">= 100x better (raised by issue 20 from 50x)",
        met=r >= 100,
        absolute=(
            f"named queues: {named['sync'].ms()}, renders drained in {fmt_s(named['drain'])}\n"
            f"one queue: {one['sync'].ms()}, renders drained in {fmt_s(one['drain'])}"
        ),
        raw={"one": one["sync"].as_dict(), "named": named["sync"].as_dict(), "ratio_p99": r},
    )
