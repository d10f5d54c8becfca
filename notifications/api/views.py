"""Staff webhook API: manage endpoints, test them, rotate their secrets, inspect and redeliver deliveries.
Views validate and call one service or selector.

Each operation needs its permission (`view_`/`add_`/`change_`/`delete_webhookendpoint`,
`view_`/`change_webhookdelivery`); anyone else gets 403: these are staff tools, and that they exist is no
secret. The signing secret is shown only to those who may change the endpoint. Writes take JSON only: a
form body is a 415, never half-read (an unticked checkbox is not an "is_active": false)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import JSONParser
from core.errors import Conflict
from core.permissions import ModelPermissions, has_perms
from notifications import selectors
from notifications.api.serializers import (
    WebhookDeliveryDetailSerializer,
    WebhookDeliveryFilterSerializer,
    WebhookDeliverySerializer,
    WebhookEndpointDetailSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointWriteSerializer,
    WebhookSecretSerializer,
)
from notifications.models import WebhookDelivery
from notifications.services import webhooks as services
from notifications.services.webhooks import endpoints as endpoint_services

NOT_FOUND = OpenApiResponse(description="No such endpoint or delivery.")
INVALID = OpenApiResponse(description="Invalid input: field names with their messages.")


class WebhookEndpointListView(generics.ListAPIView):
    permission_classes = [ModelPermissions]
    parser_classes = [JSONParser]
    serializer_class = WebhookEndpointSerializer

    def get_queryset(self):
        return selectors.webhook_endpoint_list()

    @extend_schema(
        request=WebhookEndpointWriteSerializer,
        responses={201: WebhookEndpointDetailSerializer, 400: INVALID},
        description="Create an endpoint; the answer carries its new signing `secret`.",
    )
    def post(self, request):
        body = WebhookEndpointWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        endpoint = endpoint_services.webhook_endpoint_create(**body.validated_data)
        return Response(WebhookEndpointDetailSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookEndpointDetailView(generics.RetrieveAPIView):
    permission_classes = [ModelPermissions]
    parser_classes = [JSONParser]

    def get_queryset(self):
        return selectors.webhook_endpoint_list()

    def get_serializer_class(self):
        # The secret signs what we send: readers (support) see the endpoint, only its editors the secret.
        if getattr(self, "swagger_fake_view", False) or self.request.user.has_perm(
            "notifications.change_webhookendpoint"
        ):
            return WebhookEndpointDetailSerializer
        return WebhookEndpointSerializer

    @extend_schema(
        responses={200: WebhookEndpointDetailSerializer, 404: NOT_FOUND},
        description="One endpoint; `secret` is included only for those who may change the endpoint.",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def _update(self, request, *, partial: bool) -> Response:
        endpoint = self.get_object()
        body = WebhookEndpointWriteSerializer(data=request.data, partial=partial)
        body.is_valid(raise_exception=True)
        endpoint = endpoint_services.webhook_endpoint_update(endpoint=endpoint, data=body.validated_data)
        return Response(WebhookEndpointDetailSerializer(endpoint).data)

    @extend_schema(
        request=WebhookEndpointWriteSerializer,
        responses={200: WebhookEndpointDetailSerializer, 400: INVALID, 404: NOT_FOUND},
        description="Replace the endpoint: omitted optional fields take their defaults (`description` "
        '"", `event_types` [] meaning all, `is_active` true); `url` is required.',
    )
    def put(self, request, pk: int):
        return self._update(request, partial=False)

    @extend_schema(
        request=WebhookEndpointWriteSerializer,
        responses={200: WebhookEndpointDetailSerializer, 400: INVALID, 404: NOT_FOUND},
        description="Change only the fields named. `secret` is refused (400): rotate it instead.",
    )
    def patch(self, request, pk: int):
        return self._update(request, partial=True)

    @extend_schema(responses={204: None, 404: NOT_FOUND})
    def delete(self, request, pk: int):
        endpoint_services.webhook_endpoint_delete(endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookEndpointTestView(APIView):
    permission_classes = [has_perms("notifications.change_webhookendpoint")]

    @extend_schema(
        request=None,
        responses={
            202: OpenApiResponse(WebhookDeliverySerializer, description="A `webhook.test` delivery, queued."),
            404: NOT_FOUND,
            409: OpenApiResponse(description="The endpoint is disabled."),
        },
    )
    def post(self, request, pk: int):
        endpoint = get_object_or_404(selectors.webhook_endpoint_list(), pk=pk)
        try:
            delivery = services.webhook_send_test_event(endpoint=endpoint)
        except DjangoValidationError as exc:
            raise Conflict(" ".join(exc.messages)) from None
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookEndpointSecretRotateView(APIView):
    permission_classes = [has_perms("notifications.change_webhookendpoint")]

    @extend_schema(
        request=None,
        responses={200: WebhookSecretSerializer, 404: NOT_FOUND},
        description="Replace the signing secret. Until `previous_secret_expires_at` every delivery carries "
        "a signature with the old secret too.",
    )
    def post(self, request, pk: int):
        endpoint = get_object_or_404(selectors.webhook_endpoint_list(), pk=pk)
        endpoint = endpoint_services.webhook_endpoint_secret_rotate(endpoint=endpoint)
        return Response(WebhookSecretSerializer(endpoint).data)


@extend_schema(
    parameters=[
        OpenApiParameter("status", str, enum=WebhookDelivery.Status.values),
        OpenApiParameter("endpoint", int),
    ],
    responses={200: WebhookDeliverySerializer(many=True), 400: INVALID},
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


@extend_schema(responses={200: WebhookDeliveryDetailSerializer, 404: NOT_FOUND})
class WebhookDeliveryDetailView(generics.RetrieveAPIView):
    permission_classes = [ModelPermissions]
    serializer_class = WebhookDeliveryDetailSerializer

    def get_queryset(self):
        return selectors.webhook_delivery_list()


class WebhookDeliveryRedeliverView(APIView):
    permission_classes = [has_perms("notifications.change_webhookdelivery")]

    @extend_schema(
        request=None,
        responses={
            202: OpenApiResponse(WebhookDeliverySerializer, description="Reset to a fresh schedule and queued."),
            404: NOT_FOUND,
            409: OpenApiResponse(
                WebhookDeliverySerializer,
                description="Not redelivered: it succeeded, is being sent, or its endpoint is disabled.",
            ),
        },
    )
    def post(self, request, pk: int):
        delivery = get_object_or_404(selectors.webhook_delivery_list(), pk=pk)
        queued = services.webhook_redeliver(delivery=delivery)
        delivery = selectors.webhook_delivery_list().get(pk=pk)
        return Response(
            WebhookDeliverySerializer(delivery).data,
            status=status.HTTP_202_ACCEPTED if queued else status.HTTP_409_CONFLICT,
        )
