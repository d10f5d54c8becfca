"""P11: operations data at scale. The staff pages over a year's jobs (5 million jobs and results over 60
days, 1 million webhook deliveries with an attempt each, 500,000 notifications, generated with set-based
SQL), each loaded repeatedly by a signed-in superuser through Django's test client (the whole stack but
the socket), at 5 thousand jobs first and then at full size, so the growth is visible."""

import time

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import override_settings

from bench.cases.queries import PLAIN_STATIC
from bench.report import Row
from bench.sizes import Sizes
from bench.stats import fmt_ms, summarize
from enrollments.models import Enrollment
from jobs.models import Job

TASKS = [
    "enrollments.sync_progress",
    "certificates.issue_certificate",
    "notifications.send_email",
    "notifications.deliver_webhook",
    "enrollments.recompute_course",
    "lms.ping",
]
LOADS, WARMUP = 20, 2


def _grow(jobs_total: int) -> None:
    """Add jobs (and their results, deliveries, notifications) until there are `jobs_total` jobs."""
    have = Job.objects.count()
    n = jobs_total - have
    if n <= 0:
        return
    ct = ContentType.objects.get_for_model(Enrollment).pk
    tasks = "ARRAY[" + ",".join(f"'{t}'" for t in TASKS) + "]"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO lms_job (task_id, task_name, kwargs, queue, content_type_id, object_id, triggered_by,
                publish_state, publish_attempts, last_publish_error, reconciled_count, created_at, published_at)
            SELECT gen_random_uuid()::text, ({tasks})[1 + i %% 6], jsonb_build_object('enrollment_id', i %% 100000 + 1),
                'default', %s, i %% 100000 + 1, 'user:' || (i %% 1000), 'published', 0, '', 0,
                now() - (i::float / %s) * interval '60 days', now() - (i::float / %s) * interval '60 days'
            FROM generate_series(%s, %s) AS i
            """,
            [ct, jobs_total, jobs_total, have + 1, jobs_total],
        )
        cursor.execute(
            """
            INSERT INTO django_celery_results_taskresult (task_id, task_name, status, content_type,
                content_encoding, result, date_created, date_done, meta, task_args, task_kwargs, worker,
                traceback, date_started)
            SELECT j.task_id, j.task_name, CASE WHEN j.id % 50 = 0 THEN 'FAILURE' ELSE 'SUCCESS' END,
                'application/json', 'utf-8', '{}', j.created_at, j.created_at + interval '1 second', '{}', '[]',
                '{}', 'bench@host', NULL, j.created_at
            FROM lms_job j WHERE NOT EXISTS (
                SELECT 1 FROM django_celery_results_taskresult r WHERE r.task_id = j.task_id)
            """
        )
        _grow_notifications(cursor, n)
    for table in (
        "lms_job",
        "django_celery_results_taskresult",
        "notifications_webhookevent",
        "notifications_webhookdelivery",
        "notifications_webhookattempt",
        "notifications_notification",
    ):
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")


def _grow_notifications(cursor, jobs_added: int) -> None:
    """A delivery (with one attempt) per 5 jobs, to two endpoints; a notification per 10 jobs."""
    cursor.execute(
        """INSERT INTO notifications_webhookendpoint (url, description, secret, event_types, is_active,
               consecutive_failures, disabled_reason, created_at, updated_at, previous_secret)
           SELECT 'https://crm' || i || '.example/hook', 'bench', 'whsec_bench', '["certificate.issued"]', true,
               0, '', now(), now(), ''
           FROM generate_series(1, 2) i
           WHERE NOT EXISTS (SELECT 1 FROM notifications_webhookendpoint)"""
    )
    events = jobs_added // 10
    cursor.execute(
        """INSERT INTO notifications_webhookevent (event_id, event_type, dedupe_key, payload, created_at)
           SELECT gen_random_uuid()::text, 'certificate.issued', 'bench-' || gen_random_uuid(), '{}',
               now() - random() * interval '60 days'
           FROM generate_series(1, %s)""",
        [events],
    )
    cursor.execute(
        """INSERT INTO notifications_webhookdelivery (status, attempts, last_status_code, last_error, delivered_at,
               created_at, updated_at, endpoint_id, event_id)
           SELECT 'succeeded', 1, 200, '', e.created_at, e.created_at, e.created_at, p.id, e.id
           FROM notifications_webhookevent e CROSS JOIN notifications_webhookendpoint p
           WHERE NOT EXISTS (SELECT 1 FROM notifications_webhookdelivery d WHERE d.event_id = e.id)"""
    )
    cursor.execute(
        """INSERT INTO notifications_webhookattempt (attempted_at, status_code, response_excerpt, error,
               duration_ms, delivery_id)
           SELECT d.created_at, 200, 'ok', '', 40, d.id FROM notifications_webhookdelivery d
           WHERE NOT EXISTS (SELECT 1 FROM notifications_webhookattempt a WHERE a.delivery_id = d.id)"""
    )
    cursor.execute(
        """INSERT INTO notifications_notification (kind, dedupe_key, recipient, subject, status,
               provider_message_id, attempts, last_error, sent_at, created_at, updated_at)
           SELECT 'certificate_issued', 'bench-' || gen_random_uuid(), 'learner' || i || '@bench.example',
               'Your certificate', 'sent', '', 1, '', t, t, t
           FROM generate_series(1, %s) i, LATERAL (SELECT now() - random() * interval '60 days' AS t) AS at""",
        [jobs_added // 10],
    )


def _pages() -> dict[str, str]:
    job = Job.objects.order_by("-created_at").first()
    return {
        "jobs": "/admin/jobs/job/",
        "jobs failed": "/admin/jobs/job/?state=FAILURE",
        "jobs by task": "/admin/jobs/job/?task_name=notifications.send_email",
        "jobs of an object": "/admin/jobs/job/?q=enrollment+4242",
        "results": "/admin/django_celery_results/taskresult/",
        "deliveries": "/admin/notifications/webhookdelivery/",
        "operations": "/admin/jobs/job/operations/",
        "job detail": f"/admin/jobs/job/{job.pk}/change/",
    }


def _measure(client: Client) -> dict:
    figures = {}
    for name, url in _pages().items():
        samples = []
        for i in range(WARMUP + LOADS):
            t0 = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - t0
            if response.status_code != 200:
                raise RuntimeError(f"P11 {name}: {url} answered {response.status_code}")
            if i >= WARMUP:
                samples.append(elapsed)
        figures[name] = summarize(samples)
    return figures


def p11_scale(sizes: Sizes) -> Row:
    staff = get_user_model().objects.create_superuser(email="p11@bench.example", password="x")
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    _grow(sizes.p11_small)
    with override_settings(STORAGES=PLAIN_STATIC):  # as P7: no collectstatic manifest in the bench
        small = _measure(client)
    t0 = time.perf_counter()
    _grow(sizes.p11_jobs)
    generated = time.perf_counter() - t0
    with override_settings(STORAGES=PLAIN_STATIC):
        large = _measure(client)
    worst = max(large, key=lambda name: large[name].p95)
    return Row(
        id="P11",
        what=f"staff pages over {sizes.p11_jobs:,} jobs and results, {sizes.p11_jobs // 5:,} deliveries, "
        f"{sizes.p11_jobs // 10:,} notifications (p95 of {LOADS} loads each)",
        measured=f"slowest p95 {fmt_ms(large[worst].p95)} ({worst})",
        target="each page p95 < 300 ms",
        met=all(s.p95 < 0.300 for s in large.values()),
        absolute="\n".join(
            f"{name}: p95 {fmt_ms(large[name].p95)} (p50 {fmt_ms(large[name].p50)}); "
            f"at {sizes.p11_small:,} jobs p95 {fmt_ms(small[name].p95)}"
            for name in large
        )
        + f"\ndata generated in {generated:.0f} s",
        raw={"small": {k: v.as_dict() for k, v in small.items()}, "large": {k: v.as_dict() for k, v in large.items()}},
    )
