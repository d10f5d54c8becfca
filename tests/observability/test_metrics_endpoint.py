"""/metrics: who may scrape it, and what a scrape shows (the web's counters and the figures it reads)."""

import re

import pytest
from django.db import transaction

from enrollments.tasks import progress_sync_task
from jobs.enqueue import enqueue


def sample(body: str, name: str, /, **labels) -> float | None:
    """The value of one sample in a Prometheus text exposition, or None when absent."""
    for line in body.splitlines():
        match = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(3))
    return None


@pytest.mark.django_db
def test_metrics_do_not_exist_until_a_token_or_an_allow_list_is_configured(client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS = "", []
    assert client.get("/metrics").status_code == 404


@pytest.mark.django_db
def test_a_scraper_without_the_token_is_refused(client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS = "s3cret-token", []
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200


@pytest.mark.django_db
def test_an_address_in_the_allow_list_scrapes_without_a_token(client, settings):
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_IPS = "", ["10.0.0.0/8"]
    assert client.get("/metrics", REMOTE_ADDR="192.168.1.5").status_code == 403
    response = client.get("/metrics", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_requests_are_counted_by_view_and_status(client, settings):
    settings.METRICS_TOKEN = "t"
    before = sample(client.get("/metrics", HTTP_AUTHORIZATION="Bearer t").text, "lms_http_requests_total",
                    view="catalog", method="GET", status="200") or 0  # fmt: skip
    assert client.get("/courses/").status_code == 200
    assert client.get("/courses/").status_code == 200
    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t").text
    assert sample(body, "lms_http_requests_total", view="catalog", method="GET", status="200") == before + 2
    assert sample(body, "lms_http_request_duration_seconds_count", view="catalog") is not None


@pytest.mark.integration
def test_a_scrape_reads_queue_depth_and_age_and_the_outbox(no_worker, client, settings):
    settings.METRICS_TOKEN = "t"
    with transaction.atomic():  # published on commit; no worker consumes in this test
        enqueue(progress_sync_task, enrollment_id=123)
        enqueue(progress_sync_task, enrollment_id=124)
    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t").text
    assert sample(body, "lms_queue_depth", queue="default") == 2
    assert sample(body, "lms_queue_depth", queue="pdf") == 0
    assert 0 < sample(body, "lms_queue_oldest_message_age_seconds", queue="default") < 600
    assert sample(body, "lms_queue_oldest_message_age_seconds", queue="pdf") == 0
    assert sample(body, "lms_outbox_jobs", state="pending") == 0
    assert sample(body, "lms_outbox_jobs", state="dead") == 0
    assert sample(body, "lms_webhook_deliveries", status="succeeded") == 0
    assert sample(body, "lms_emails", status="sent") == 0
    assert sample(body, "lms_scrape_errors", source="broker") == 0


@pytest.mark.django_db
def test_a_scrape_reports_each_process_heartbeat_age(client, settings):
    from datetime import timedelta

    from django.utils import timezone

    from jobs.models import Heartbeat

    settings.METRICS_TOKEN = "t"
    seen = timezone.now() - timedelta(seconds=90)
    Heartbeat.objects.create(kind="beat", name="beat@a", role="active", started_at=seen, last_seen=seen)
    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t").text
    age = sample(body, "lms_heartbeat_age_seconds", kind="beat", name="beat@a", role="active")
    assert age is not None and 89 <= age <= 120
