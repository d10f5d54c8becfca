"""The webhook event types are one table (notifications/events.py): the model's choices, the API's and the
admin's choices, the receivers and the payloads all come from it, so a new event type is one row."""

import pytest
from django.dispatch import Signal

from jobs.models import Job
from notifications import events, receivers
from notifications.admin.webhooks import WebhookEndpointForm
from notifications.api.serializers import WebhookEndpointSerializer, WebhookEndpointWriteSerializer
from notifications.models import WebhookEvent

FANOUT = "notifications.fanout_webhook_event"


def _fanout_jobs() -> list[tuple[str, str, int]]:
    jobs = Job.objects.filter(task_name=FANOUT).select_related("content_type").order_by("pk")
    return [
        (job.kwargs["event_type"], f"{job.content_type.app_label}.{job.content_type.model}", job.object_id)
        for job in jobs
    ]


def test_the_model_the_api_and_the_admin_offer_exactly_the_table_s_event_types():
    names = [kind.name for kind in events.WEBHOOK_EVENTS]
    assert [value for value, _ in WebhookEvent._meta.get_field("event_type").choices] == names
    api_choices = WebhookEndpointSerializer().fields["event_types"].child.choices
    assert list(api_choices) == names
    assert [value for value, _ in WebhookEndpointForm().fields["event_types"].choices] == names


@pytest.mark.django_db
@pytest.mark.parametrize("kind", events.WEBHOOK_EVENTS, ids=lambda kind: kind.name)
def test_each_row_s_signal_queues_its_fan_out_about_its_model(kind):
    kind.signal.send(sender=None, **{kind.object_kwarg: 4242})

    assert (kind.name, kind.about.lower(), 4242) in _fanout_jobs()


@pytest.mark.django_db
def test_a_new_row_is_all_a_new_event_type_needs(monkeypatch):
    course_published = Signal()
    kind = events.WebhookEventKind(
        "course.published", course_published, "course_id", "courses.Course", lambda course_id: {"course_id": course_id}
    )
    monkeypatch.setattr(events, "WEBHOOK_EVENTS", (*events.WEBHOOK_EVENTS, kind))
    monkeypatch.setattr(events, "_BY_NAME", {**events._BY_NAME, kind.name: kind})
    receivers.connect()

    course_published.send(sender=None, course_id=7)

    assert _fanout_jobs() == [("course.published", "courses.course", 7)]
    assert events.webhook_event_data(event_type="course.published", object_id=7) == {"course_id": 7}


def test_an_unknown_event_type_is_refused_by_the_table_and_by_the_api():
    with pytest.raises(ValueError, match=r"Unknown webhook event type 'course\.deleted'"):
        events.webhook_event_data(event_type="course.deleted", object_id=1)
    write = WebhookEndpointWriteSerializer(
        data={"url": "https://crm.example.com/hooks", "event_types": ["course.deleted"]}
    )
    assert not write.is_valid() and "event_types" in write.errors
