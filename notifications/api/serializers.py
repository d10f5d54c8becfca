"""Serializers of the staff webhook API: they convert and validate input; the services decide."""

from rest_framework import serializers

from notifications.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEventType
from notifications.ssrf import UnsafeURL, check_url


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """An endpoint without its secret: for lists."""

    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEventType.choices),
        required=False,
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
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "consecutive_failures", "disabled_at", "disabled_reason", "created_at", "updated_at"]

    def validate_url(self, url: str) -> str:
        try:
            check_url(url)
        except UnsafeURL as exc:
            raise serializers.ValidationError(str(exc)) from None
        return url


class WebhookEndpointDetailSerializer(WebhookEndpointSerializer):
    """An endpoint with its signing secret: answered on create and retrieve, to staff only."""

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = [*WebhookEndpointSerializer.Meta.read_only_fields, "secret"]


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["id", "attempted_at", "status_code", "duration_ms", "error", "response_excerpt"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(source="event.event_id", read_only=True)
    event_type = serializers.CharField(source="event.event_type", read_only=True)
    endpoint_url = serializers.CharField(source="endpoint.url", read_only=True)

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
        ]
        read_only_fields = fields


class WebhookDeliveryDetailSerializer(WebhookDeliverySerializer):
    """A delivery with the payload it sends and every attempt (lists leave both out: they are long)."""

    payload = serializers.JSONField(source="event.payload", read_only=True)
    attempts_log = WebhookAttemptSerializer(source="attempt_log", many=True, read_only=True)

    class Meta(WebhookDeliverySerializer.Meta):
        fields = [*WebhookDeliverySerializer.Meta.fields, "payload", "attempts_log"]
        read_only_fields = fields


class WebhookDeliveryFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices, required=False)
    endpoint = serializers.IntegerField(required=False, min_value=1)
