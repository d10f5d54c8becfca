"""P10: 16 staff clients polling `GET /api/operations/{id}/` (gunicorn -w 4) while a course progress report
runs on a `reports` worker: what a page's progress bar and an integrator's poll loop cost while the
database and the worker are busy with the report.

Each client polls every INTERVAL seconds (twice as often as the pages' progress bars, which poll once a
second): the target is judged there. The same 16 clients back to back, with no pause (a saturation test
of two cores shared with the report, not a way anyone polls), are reported beside it."""

import asyncio
import time

import httpx
from django.contrib.auth.models import Permission

from bench import data
from bench.procs import Gunicorn, Worker
from bench.report import Row
from bench.sizes import Sizes
from bench.stats import summarize
from courses.models import Course
from jobs.models import Operation
from reports.models import Report
from reports.services import report_request

CLIENTS = 16
INTERVAL = 0.5  # seconds between one client's polls
DEADLINE = 600.0  # seconds; a report still running then is a failure, not a measurement


async def _poll(
    base_url: str, path: str, tokens: list[str], interval: float
) -> tuple[list[float], list[float], set[int]]:
    """Every client polls (`interval` seconds apart, 0 for back to back) until the operation is finished;
    returns (latencies while it was running, latencies after, statuses)."""
    running, after, statuses = [], [], set()
    limits = httpx.Limits(max_connections=CLIENTS + 2, max_keepalive_connections=CLIENTS + 2)
    deadline = time.perf_counter() + DEADLINE
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30.0) as client:

        async def one_client(index: int, token: str) -> None:
            headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
            await asyncio.sleep(interval * index / CLIENTS)  # spread over the interval, as pages would be
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                response = await client.get(path, headers=headers)
                elapsed = time.perf_counter() - t0
                statuses.add(response.status_code)
                if response.status_code != 200 or response.json()["state"] not in Operation.ACTIVE:
                    after.append(elapsed)
                    return
                running.append(elapsed)
                await asyncio.sleep(max(0.0, interval - elapsed))

        await asyncio.gather(*(one_client(index, token) for index, token in enumerate(tokens)))
    return running, after, statuses


def _staff() -> list:
    users = data.learners("p10-staff", CLIENTS, tokens=True)
    view = Permission.objects.get(content_type__app_label="reports", codename="view_report")
    for user in users:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        user.user_permissions.add(view)
    return users


async def _warm_up(base_url: str, tokens: list[str], seconds: float = 2.0) -> None:
    """Every gunicorn worker past its first requests (imports, URL resolvers, connections) before timing."""
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:

        async def one_client(token: str) -> None:
            while time.perf_counter() < deadline:
                await client.get("/api/operations/?page_size=1", headers={"Authorization": f"Token {token}"})

        await asyncio.gather(*(one_client(token) for token in tokens))


def _while_a_report_runs(course, staff, tokens: list[str], web: Gunicorn, interval: float):
    report, _ = report_request(kind="course_progress", course=course, requested_by=staff[0])
    path = f"/api/operations/{report.operation_id}/"
    t0 = time.perf_counter()
    running, after, statuses = asyncio.run(_poll(web.base_url, path, tokens, interval))
    wall = time.perf_counter() - t0
    operation = Operation.objects.get(pk=report.operation_id)
    if statuses != {200} or operation.state != "completed" or not running:
        raise RuntimeError(f"P10: statuses {statuses}, report {operation.state}, {len(running)} polls while running")
    Report.objects.get(pk=report.pk).file.delete(save=False)
    return summarize(running), wall, len(after)


def p10_polling(sizes: Sizes, web: Gunicorn, worker: Worker) -> Row:
    worker.check_alive()
    course = Course.objects.filter(slug="p9").first()  # P9's course when it ran; else one of the same size
    if course is None:
        course, _ = data.large_course("p10", enrollments=sizes.p9_enrollments, lessons=50)
    staff = _staff()
    tokens = [data.token_of(user) for user in staff]
    asyncio.run(_warm_up(web.base_url, tokens))
    paced, wall, _ = _while_a_report_runs(course, staff, tokens, web, INTERVAL)
    saturated, wall_saturated, _ = _while_a_report_runs(course, staff, tokens, web, 0.0)
    return Row(
        id="P10",
        what=f"GET /api/operations/{{id}}/ at {CLIENTS} clients, each every {INTERVAL:g} s, while a report of "
        f"{course.enrollments.count():,} enrollments runs (gunicorn -w 4, reports worker -c 1)",
        measured=f"p99 {paced.p99 * 1000:.1f} ms",
        target="p99 < 50 ms",
        met=paced.p99 < 0.050,
        absolute=(
            f"{paced.ms()} over {wall:.1f} s while the report ran<br>back to back, no pause (saturation, "
            f"reference): {saturated.ms()}, {saturated.n / wall_saturated:,.0f} polls/s"
        ),
        raw={"paced": paced.as_dict(), "saturated": saturated.as_dict(), "interval": INTERVAL},
    )
