"""Staff webhook API: manage endpoints, inspect deliveries. Views validate and call one service or selector.

Each operation needs its model permission (`view_`/`add_`/`change_`/`delete_webhookendpoint`,
`view_webhookdelivery`); anyone else gets 403: these are staff tools, and that they exist is no secret.
The signing secret is shown only to those who may change the endpoint."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics

from lms.permissions import ModelPermissions
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
    permission_classes = [ModelPermissions]

    def get_queryset(self):
        return selectors.webhook_endpoint_list()

    def get_serializer_class(self):
        # The secret is shown on create (and on retrieve to those who may change it), never in lists.
        return WebhookEndpointDetailSerializer if self.request.method == "POST" else WebhookEndpointSerializer

    def perform_create(self, serializer) -> None:
        serializer.instance = services.webhook_endpoint_create(**serializer.validated_data)


class WebhookEndpointDetailView(generics.RetrieveUpdateDestroyAPIView):
    permission_classes = [ModelPermissions]

    def get_queryset(self):
        return selectors.webhook_endpoint_list()

    def get_serializer_class(self):
        # The secret signs what we send: readers (support) see the endpoint, only its editors the secret.
        if getattr(self, "swagger_fake_view", False) or self.request.user.has_perm(
            "notifications.change_webhookendpoint"
        ):
            return WebhookEndpointDetailSerializer
        return WebhookEndpointSerializer

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
    permission_classes = [ModelPermissions]
    serializer_class = WebhookDeliverySerializer

    def get_queryset(self):
        filters = WebhookDeliveryFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.webhook_delivery_list(
            status=filters.validated_data.get("status"), endpoint_id=filters.validated_data.get("endpoint")
        )


class WebhookDeliveryDetailView(generics.RetrieveAPIView):
    permission_classes = [ModelPermissions]
    serializer_class = WebhookDeliveryDetailSerializer

    def get_queryset(self):
        return selectors.webhook_delivery_detail_list()
