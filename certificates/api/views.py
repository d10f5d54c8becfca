from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from certificates import selectors
from certificates.api.filters import CertificateFilter
from certificates.api.serializers import CertificateSerializer, CertificateVerificationSerializer
from certificates.models import Certificate
from certificates.views import serve_pdf
from lms.api import SyncPagination

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
    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    def get(self, request, pk: int):
        try:
            certificate = selectors.certificate_get_for_download(user=request.user, certificate_id=pk)
        except Certificate.DoesNotExist:
            raise Http404 from None
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
