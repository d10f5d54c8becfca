"""factory_boy factories for webhooks."""

import factory

from notifications.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.enrollments.factories import EnrollmentFactory


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """An endpoint row made directly, bypassing the service's SSRF check (tests of the send-time check
    rely on that)."""

    class Meta:
        model = WebhookEndpoint

    url = factory.Sequence(lambda n: f"https://hooks{n}.example.com/lms")
    description = "A receiver."


class WebhookEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEvent

    class Params:
        enrollment = factory.SubFactory(EnrollmentFactory)

    event_type = "enrollment.created"
    dedupe_key = factory.LazyAttribute(lambda o: f"{o.event_type}:{o.enrollment.pk}")
    payload = factory.LazyAttribute(
        lambda o: {
            "type": o.event_type,
            "timestamp": "2026-01-01T00:00:00+00:00",
            "data": {"enrollment_id": o.enrollment.pk, "learner_email": o.enrollment.learner.email},
        }
    )


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    event = factory.SubFactory(WebhookEventFactory)
    endpoint = factory.SubFactory(WebhookEndpointFactory)


class WebhookAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookAttempt

    delivery = factory.SubFactory(WebhookDeliveryFactory)
    status_code = 500
    response_excerpt = "oops"
