"""Staff-only webhook API: manage endpoints, inspect deliveries. Views validate and call one service or
selector. Non-staff get 403: these are staff tools, and that they exist is no secret."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.permissions import IsAdminUser

from notifications import selectors
from notifications.api.serializers import (
    WebhookDeliveryDetailSerializer,
    WebhookDeliveryFilterSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointDetailSerializer,
    WebhookEndpointSerializer,
)
from notifications.models import WebhookDelivery
from notifications.services import webhooks as services


class WebhookEndpointListView(generics.ListCreateAPIView):
    permission_classes = [IsAdminUser]

    def get_queryset(self):
        return selectors.webhook_endpoint_list()

    def get_serializer_class(self):
        # The secret is shown once on create (and on retrieve), never in lists.
        return WebhookEndpointDetailSerializer if self.request.method == "POST" else WebhookEndpointSerializer

    def perform_create(self, serializer) -> None:
        serializer.instance = services.webhook_endpoint_create(**serializer.validated_data)


class WebhookEndpointDetailView(generics.RetrieveUpdateDestroyAPIView):
    permission_classes = [IsAdminUser]
    serializer_class = WebhookEndpointDetailSerializer

    def get_queryset(self):
        return selectors.webhook_endpoint_list()

    def perform_update(self, serializer) -> None:
        serializer.instance = services.webhook_endpoint_update(
            endpoint=serializer.instance, data=serializer.validated_data
        )

    def perform_destroy(self, instance) -> None:
        services.webhook_endpoint_delete(endpoint=instance)


@extend_schema(
    parameters=[
        OpenApiParameter("status", str, enum=WebhookDelivery.Status.values),
        OpenApiParameter("endpoint", int),
    ]
)
class WebhookDeliveryListView(generics.ListAPIView):
    permission_classes = [IsAdminUser]
    serializer_class = WebhookDeliverySerializer

    def get_queryset(self):
        filters = WebhookDeliveryFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.webhook_delivery_list(
            status=filters.validated_data.get("status"), endpoint_id=filters.validated_data.get("endpoint")
        )


class WebhookDeliveryDetailView(generics.RetrieveAPIView):
    permission_classes = [IsAdminUser]
    serializer_class = WebhookDeliveryDetailSerializer

    def get_queryset(self):
        return selectors.webhook_delivery_detail_list()
