"""Serializers of the staff webhook API: they convert and validate input; the services decide.

Requests and responses have separate serializers: what a client may write (url, description, event_types,
is_active) is not what it reads back (ids, failure state, the secret)."""

from rest_framework import serializers

from notifications.events import WEBHOOK_EVENT_CHOICES
from notifications.http.ssrf import UnsafeURL, check_url
from notifications.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

ROTATE_INSTEAD_MESSAGE = (
    "The secret cannot be set. POST /api/webhooks/endpoints/{id}/rotate-secret/ makes a new one "
    "(the old one keeps signing for a grace period)."
)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """An endpoint without its secret: for lists, and for readers who may not change it."""

    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=WEBHOOK_EVENT_CHOICES),
        read_only=True,
        help_text="Subscribed event types; empty means all.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "is_active",
            "consecutive_failures",
            "disabled_at",
            "disabled_reason",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookEndpointDetailSerializer(WebhookEndpointSerializer):
    """An endpoint with its signing secret: answered on create and retrieve, to staff who may change it."""

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointWriteSerializer(serializers.Serializer):
    """The body of create, PUT and PATCH.

    On create and PUT an omitted optional field takes its default (PUT replaces the endpoint); on PATCH
    only the fields named change. The read-only fields of the answer may be sent back and are ignored,
    except `secret`: it changes only by rotation, and a body naming it is refused rather than silently
    ignored. Any other name is refused too, so a misspelt field is not mistaken for a change."""

    url = serializers.URLField(max_length=500)
    description = serializers.CharField(max_length=200, allow_blank=True, default="")
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=WEBHOOK_EVENT_CHOICES),
        default=list,
        help_text="Subscribed event types; empty (the default) means all.",
    )
    is_active = serializers.BooleanField(
        default=True, help_text="False stops deliveries; true again clears the failure count."
    )

    def validate_url(self, url: str) -> str:
        try:
            check_url(url)
        except UnsafeURL as exc:
            raise serializers.ValidationError(str(exc)) from None
        return url

    def validate(self, attrs: dict) -> dict:
        sent = set(self.initial_data) if isinstance(self.initial_data, dict) else set()
        errors = {}
        if "secret" in sent:
            errors["secret"] = [ROTATE_INSTEAD_MESSAGE]
        ignored = set(WebhookEndpointDetailSerializer.Meta.fields)
        for name in sorted(sent - set(self.fields) - ignored):
            errors[name] = ["Unknown field."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class WebhookSecretSerializer(serializers.ModelSerializer):
    """The answer of a rotation: the new secret (shown this once in the answer, and to those who may
    change the endpoint), and until when the previous one still signs."""

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "secret", "previous_secret_expires_at"]
        read_only_fields = fields


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["id", "attempted_at", "status_code", "duration_ms", "error", "response_excerpt"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    """A delivery with every attempt, newest first (lists too: at most a schedule's worth per delivery)."""

    event_id = serializers.CharField(source="event.event_id", read_only=True)
    event_type = serializers.CharField(source="event.event_type", read_only=True)
    endpoint_url = serializers.CharField(source="endpoint.url", read_only=True)
    attempts_log = WebhookAttemptSerializer(source="attempt_log", many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "endpoint",
            "endpoint_url",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status_code",
            "last_error",
            "delivered_at",
            "created_at",
            "updated_at",
            "attempts_log",
        ]
        read_only_fields = fields


class WebhookDeliveryDetailSerializer(WebhookDeliverySerializer):
    """A delivery with the payload it sends (lists leave it out: it is long and carries learners' data)."""

    payload = serializers.JSONField(source="event.payload", read_only=True)

    class Meta(WebhookDeliverySerializer.Meta):
        fields = [*WebhookDeliverySerializer.Meta.fields, "payload"]
        read_only_fields = fields


class WebhookDeliveryFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices, required=False)
    endpoint = serializers.IntegerField(required=False, min_value=1)
