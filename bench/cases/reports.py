"""P9: the course progress report of a large course (100,000 enrollments x 50 lessons) through the service
and a dedicated `reports` worker (-c 1), against a hand-written `COPY (SELECT ...) TO STDOUT` of the same
rows as the floor; and the worker's peak RSS."""

import time

import psutil
from django.db import connection

from bench import data
from bench.cases.imports import MB, RssSampler
from bench.procs import Worker
from bench.report import Row
from bench.sizes import Sizes
from bench.stats import fmt_s
from certificates.models import Certificate
from courses.models import Lesson
from enrollments.models import Enrollment, LessonCompletion
from jobs.models import Operation
from reports.models import Report
from reports.services import report_request

LESSONS = 50

FLOOR = """
COPY (
  SELECT u.full_name, u.email, e.enrolled_at, e.status, count(lc.id) FILTER (WHERE l.is_published), %(total)s,
         e.progress_percent, max(lc.completed_at), c.code, c.status
    FROM {enrollment} e
    JOIN {user} u ON u.id = e.learner_id
    LEFT JOIN {completion} lc ON lc.enrollment_id = e.id
    LEFT JOIN {lesson} l ON l.id = lc.lesson_id
    LEFT JOIN {certificate} c ON c.enrollment_id = e.id
   WHERE e.course_id = %(course)s
   GROUP BY e.id, u.id, c.id
   ORDER BY e.id
) TO STDOUT WITH (FORMAT csv, HEADER)
"""


def _copy_floor(course_id: int) -> tuple[float, int]:
    from django.contrib.auth import get_user_model

    sql = FLOOR.format(
        enrollment=Enrollment._meta.db_table, user=get_user_model()._meta.db_table,
        completion=LessonCompletion._meta.db_table, lesson=Lesson._meta.db_table,
        certificate=Certificate._meta.db_table,
    )  # fmt: skip
    sql = sql.replace("%(total)s", str(LESSONS)).replace("%(course)s", str(int(course_id)))
    size = 0
    t0 = time.perf_counter()
    with connection.cursor() as cursor, cursor.connection.cursor().copy(sql) as copy:
        for chunk in copy:
            size += len(chunk)
    return time.perf_counter() - t0, size


def p9_report(sizes: Sizes, worker: Worker) -> Row:
    n = sizes.p9_enrollments
    course, _ = data.large_course("p9", enrollments=n, lessons=LESSONS)
    (staff,) = data.learners("p9-staff", 1)
    floors = [_copy_floor(course.pk) for _ in range(3)]
    floor = min(t for t, _ in floors)
    idle_rss = psutil.Process(worker.pid).memory_info().rss
    sampler = RssSampler(worker.pid)
    sampler.start()
    t0 = time.perf_counter()
    report, _ = report_request(kind="course_progress", course=course, requested_by=staff)
    while True:
        operation = Operation.objects.get(pk=report.operation_id)
        if operation.is_finished:
            break
        if time.perf_counter() - t0 > 600:
            raise RuntimeError(f"P9: report still {operation.state} after 600 s ({operation.completion} %)")
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    sampler.stopped.set()
    sampler.join()
    report = Report.objects.get(pk=report.pk)
    if operation.state != "completed" or report.rows != n:
        raise RuntimeError(f"P9: report {operation.state} ({operation.message}); {report.rows}/{n} rows")
    report.file.delete(save=False)
    peak = sampler.peak_process / MB
    return Row(
        id="P9",
        what=f"course progress report of {n:,} enrollments x {LESSONS} lessons (CSV), reports worker -c 1",
        measured=f"{fmt_s(wall)} = {wall / floor:.2f}x the COPY floor; peak RSS {peak:.0f} MB (largest process)",
        target="<= 2x the floor and < 20 s; < 200 MB",
        met=wall <= 2 * floor and wall < 20 and peak < 200,
        absolute=(
            f"COPY floor {fmt_s(floor)} ({floors[0][1] / MB:.1f} MB); {report.size / MB:.1f} MB file; "
            f"{n / wall:,.0f} rows/s; worker main process idle {idle_rss / MB:.0f} MB"
        ),
        raw={"rows": n, "wall": wall, "floor": floor, "peak_process": sampler.peak_process},
    )
