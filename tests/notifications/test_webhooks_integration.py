"""Webhooks across real boundaries: task -> broker -> worker process -> HTTP to a real receiver on
127.0.0.1 -> database. The sweeper is triggered by the tests (no beat), after moving a retry's time to
now, so a five-minute wait takes no time."""

import pytest
from django.utils import timezone
from django_celery_results.models import TaskResult
from standardwebhooks.webhooks import Webhook

from jobs.enqueue import enqueue
from notifications.models import Notification, WebhookDelivery, WebhookEndpoint, WebhookEvent
from notifications.services.webhooks.endpoints import webhook_endpoint_create
from notifications.tasks import webhook_deliver_task, webhook_event_fanout_task, webhook_retry_due_task
from tests.enrollments.factories import EnrollmentFactory
from tests.jobs.factories import staff_with
from tests.notifications.webhook_receiver import Reply, receiver_fixture  # noqa: F401 - the `receiver` fixture
from tests.utils import wait_for

pytestmark = pytest.mark.integration


def delivery_where(**filters) -> WebhookDelivery:
    return wait_for(
        lambda: WebhookDelivery.objects.filter(**filters).first(), timeout=30, message=f"a delivery with {filters}"
    )


def run_the_sweeper_now(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    enqueue(webhook_retry_due_task)


def test_an_enrollment_event_reaches_the_receiver_once_signed_with_the_endpoint_secret(worker, receiver):
    endpoint = webhook_endpoint_create(url=receiver.url)
    enrollment = EnrollmentFactory()

    enqueue(webhook_event_fanout_task, event_type="enrollment.created", object_id=enrollment.pk)

    delivery = delivery_where(status="succeeded")
    [request] = receiver.requests
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert request.headers["webhook-id"] == delivery.event.event_id
    assert payload["type"] == "enrollment.created"
    assert payload["data"]["enrollment_id"] == enrollment.pk
    assert payload["data"]["learner_email"] == enrollment.learner.email
    assert payload["data"]["course_slug"] == enrollment.course.slug


def test_a_receiver_failing_twice_gets_three_attempts_with_the_same_webhook_id(worker, receiver):
    receiver.reply(Reply(status=500, body=b"down"), Reply(status=500, body=b"still down"))
    endpoint = webhook_endpoint_create(url=receiver.url)
    enrollment = EnrollmentFactory()

    enqueue(webhook_event_fanout_task, event_type="enrollment.created", object_id=enrollment.pk)
    first = delivery_where(status="retrying", attempts=1)
    assert 4 <= (first.next_attempt_at - first.updated_at).total_seconds() <= 6  # the 5 s step, jittered
    run_the_sweeper_now(first)
    second = delivery_where(status="retrying", attempts=2)
    assert 270 <= (second.next_attempt_at - second.updated_at).total_seconds() <= 330  # the 5 min step
    run_the_sweeper_now(second)
    done = delivery_where(status="succeeded")

    assert done.attempts == 3
    assert [a.status_code for a in done.attempt_log.order_by("id")] == [500, 500, 200]
    assert [a.response_excerpt for a in done.attempt_log.order_by("id")][:2] == ["down", "still down"]
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert len(receiver.requests) == 3 and ids == {done.event.event_id}
    for request in receiver.requests:
        Webhook(endpoint.secret).verify(request.body, request.headers)
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).consecutive_failures == 0


def test_410_gone_disables_the_endpoint_and_emails_staff(worker, receiver):
    staff = staff_with("notifications.change_webhookendpoint")
    receiver.reply(Reply(status=410, body=b"gone"))
    endpoint = webhook_endpoint_create(url=receiver.url)
    enrollment = EnrollmentFactory()

    enqueue(webhook_event_fanout_task, event_type="enrollment.created", object_id=enrollment.pk)

    delivery = delivery_where(status="failed")
    endpoint.refresh_from_db()
    assert delivery.last_status_code == 410
    assert not endpoint.is_active and endpoint.disabled_at is not None
    assert "410" in endpoint.disabled_reason
    email = wait_for(
        lambda: Notification.objects.filter(kind="webhook_endpoint_disabled", recipient=staff.email).first(),
        timeout=30,
        message="the staff email about the disabled endpoint",
    )
    assert email.object_id == endpoint.pk


def test_duplicate_fanouts_and_deliveries_send_each_endpoint_the_event_once(worker, receiver):
    # A slow receiver keeps the first send in flight while the duplicate messages arrive.
    receiver.default = Reply(delay=0.5)
    first = webhook_endpoint_create(url=receiver.url + "&endpoint=1")
    second = webhook_endpoint_create(url=receiver.url + "&endpoint=2")
    enrollment = EnrollmentFactory()

    enqueue(webhook_event_fanout_task, event_type="enrollment.created", object_id=enrollment.pk)
    enqueue(webhook_event_fanout_task, event_type="enrollment.created", object_id=enrollment.pk)
    wait_for(
        lambda: WebhookDelivery.objects.filter(status="succeeded").count() == 2,
        timeout=30,
        message="both deliveries to succeed",
    )
    results = [webhook_deliver_task.delay(delivery_id=d.pk).id for d in WebhookDelivery.objects.all() for _ in range(2)]
    wait_for(
        lambda: TaskResult.objects.filter(task_id__in=results, status="SUCCESS").count() == len(results),
        timeout=30,
        message="the redelivered deliver tasks to finish",
    )

    assert WebhookEvent.objects.count() == 1
    assert sorted(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == sorted([first.pk, second.pk])
    assert sorted(r.path for r in receiver.requests) == [
        "/hooks?source=lms&endpoint=1",
        "/hooks?source=lms&endpoint=2",
    ]
    assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {1}


def test_after_a_rotation_a_test_event_sent_through_the_api_verifies_with_either_secret(worker, receiver, api_client):
    api_client.force_authenticate(
        staff_with("notifications.view_webhookdelivery", "notifications.change_webhookendpoint")
    )
    endpoint = webhook_endpoint_create(url=receiver.url)
    old = endpoint.secret

    new = api_client.post(f"/api/webhooks/endpoints/{endpoint.pk}/rotate-secret/").json()["secret"]
    response = api_client.post(f"/api/webhooks/endpoints/{endpoint.pk}/test/")

    assert response.status_code == 202, response.content
    delivery_where(pk=response.json()["id"], status="succeeded")
    [request] = receiver.requests
    assert Webhook(old).verify(request.body, request.headers)["type"] == "webhook.test"
    assert Webhook(new).verify(request.body, request.headers)["data"]["endpoint_id"] == endpoint.pk
    body = api_client.get(f"/api/webhooks/deliveries/?endpoint={endpoint.pk}").json()
    assert [a["status_code"] for a in body["results"][0]["attempts_log"]] == [200]
