from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from certificates import selectors, services
from certificates.api.filters import CertificateFilter
from certificates.api.serializers import (
    CertificateRegenerateSerializer,
    CertificateRevokeSerializer,
    CertificateSerializer,
    CertificateVerificationSerializer,
)
from certificates.models import Certificate
from certificates.views import serve_pdf
from core.api import JSONParser, SyncPagination
from core.errors import Gone
from core.permissions import has_perms

_READ_ALL = (
    "Learners get their own; holders of `certificates.view_certificate` (staff, service accounts of "
    "integrations) get everyone's. "
)


@extend_schema_view(
    get=extend_schema(
        description=_READ_ALL
        + "With `updated_since` the list is an incremental sync: oldest write first by (updated_at, id), "
        'and `next` resumes after the page\'s last row (docs/api.md, "Integrations").'
    )
)
class CertificateListView(generics.ListAPIView):
    serializer_class = CertificateSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = CertificateFilter
    pagination_class = SyncPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator: no user, only the model
            return Certificate.objects.none()
        return selectors.certificate_list_readable(user=self.request.user)


@extend_schema_view(get=extend_schema(description=_READ_ALL))
class CertificateDetailView(generics.RetrieveAPIView):
    serializer_class = CertificateSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator: no user, only the model
            return Certificate.objects.none()
        return selectors.certificate_list_readable(user=self.request.user)


class CertificatePdfView(APIView):
    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            410: OpenApiResponse(description="The certificate was revoked: no PDF, the date in `detail`."),
        }
    )
    def get(self, request, pk: int):
        try:
            certificate = selectors.certificate_get_for_download(user=request.user, certificate_id=pk)
        except Certificate.DoesNotExist:
            raise Http404 from None
        if certificate.is_revoked:
            revoked_on = certificate.revoked_at.date().isoformat()
            raise Gone(f"This certificate was revoked on {revoked_on}.")
        return serve_pdf(certificate)


class CertificateVerifyView(generics.RetrieveAPIView):
    permission_classes = [AllowAny]
    serializer_class = CertificateVerificationSerializer
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "verify"

    def get_object(self):
        try:
            return selectors.certificate_get_by_code(code=self.kwargs["code"])
        except Certificate.DoesNotExist:
            raise Http404 from None


def _certificate_or_404(pk: int) -> Certificate:
    try:
        return selectors.certificate_get(certificate_id=pk)
    except Certificate.DoesNotExist:
        raise Http404 from None


class CertificateRevokeView(APIView):
    """Staff revoke a certificate (as the admin action does): its verification says so from then on."""

    permission_classes = [has_perms("certificates.change_certificate")]
    parser_classes = [JSONParser]

    @extend_schema(
        request=CertificateRevokeSerializer,
        responses={
            200: OpenApiResponse(CertificateSerializer, description="Revoked (already revoked: unchanged)."),
            400: OpenApiResponse(description="Invalid input: field names with their messages."),
            404: OpenApiResponse(description="No such certificate."),
        },
    )
    def post(self, request, pk: int):
        certificate = _certificate_or_404(pk)
        body = CertificateRevokeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        certificate = services.certificate_revoke(
            certificate=certificate, reason=body.validated_data["reason"], by=request.user
        )
        certificate = selectors.certificate_get(certificate_id=certificate.pk)
        return Response(CertificateSerializer(certificate, context={"request": request}).data)


class CertificateRegenerateView(APIView):
    """Staff queue a re-render of a certificate's PDF, keeping its code and issue date."""

    permission_classes = [has_perms("certificates.change_certificate")]
    parser_classes = [JSONParser]

    @extend_schema(
        request=CertificateRegenerateSerializer,
        responses={
            202: OpenApiResponse(CertificateSerializer, description="Queued."),
            400: OpenApiResponse(description="Invalid input: field names with their messages."),
            404: OpenApiResponse(description="No such certificate."),
            409: OpenApiResponse(CertificateSerializer, description="Revoked: it cannot be regenerated."),
        },
    )
    def post(self, request, pk: int):
        certificate = _certificate_or_404(pk)
        body = CertificateRegenerateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = CertificateSerializer(certificate, context={"request": request}).data
        if certificate.status == Certificate.Status.REVOKED:
            return Response(data, status=status.HTTP_409_CONFLICT)
        services.certificate_request_regenerate(
            certificate_id=certificate.pk, refresh_names=body.validated_data["refresh_names"]
        )
        return Response(data, status=status.HTTP_202_ACCEPTED)
