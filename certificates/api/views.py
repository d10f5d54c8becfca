from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from certificates import selectors
from certificates.api.serializers import CertificateSerializer, CertificateVerificationSerializer
from certificates.models import Certificate
from certificates.views import serve_pdf


class CertificateListView(generics.ListAPIView):
    serializer_class = CertificateSerializer

    def get_queryset(self):
        return selectors.certificate_list_for_user(user=self.request.user)


class CertificateDetailView(generics.RetrieveAPIView):
    serializer_class = CertificateSerializer

    def get_queryset(self):
        return selectors.certificate_list_for_user(user=self.request.user)


class CertificatePdfView(APIView):
    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY, 410: OpenApiTypes.OBJECT})
    def get(self, request, pk: int):
        try:
            certificate = selectors.certificate_get_for_download(user=request.user, certificate_id=pk)
        except Certificate.DoesNotExist:
            raise Http404 from None
        if certificate.is_revoked:
            revoked_on = certificate.revoked_at.date().isoformat()
            return Response({"detail": f"This certificate was revoked on {revoked_on}."}, status=410)
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
