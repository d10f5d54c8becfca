"""The staff API of reports: request one (202, Location: its operation), list, read, download.

Requesting needs `reports.add_report`, reading and downloading `reports.view_report`; learners get 404.
"""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Pagination
from reports import selectors, services
from reports.api.serializers import ReportRequestSerializer, ReportSerializer
from reports.models import Report
from reports.views import report_file_response


def _require(request, perm: str) -> None:
    if not request.user.is_staff:
        raise Http404
    if not request.user.has_perm(perm):
        raise PermissionDenied()


class ReportListCreateView(generics.ListAPIView):
    serializer_class = ReportSerializer
    pagination_class = Pagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Report.objects.none()
        _require(self.request, "reports.view_report")
        return selectors.report_list()

    @extend_schema(
        request=ReportRequestSerializer,
        responses={
            202: OpenApiResponse(ReportSerializer, description="Queued; Location is its operation."),
            200: OpenApiResponse(ReportSerializer, description="The same report is already queued or running."),
        },
    )
    def post(self, request):
        _require(request, "reports.add_report")
        data = ReportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        try:
            report, created = services.report_request(
                kind=fields["kind"], fmt=fields["format"], course=fields.get("course"), requested_by=request.user,
                period_start=fields.get("period_start"), period_end=fields.get("period_end"),
            )  # fmt: skip
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        body = ReportSerializer(report, context={"request": request}).data
        location = request.build_absolute_uri(reverse("api-operation-detail", args=[report.operation_id]))
        code = status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK
        return Response(body, status=code, headers={"Location": location})


class ReportDetailView(generics.RetrieveAPIView):
    serializer_class = ReportSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Report.objects.none()
        _require(self.request, "reports.view_report")
        return selectors.report_list()


class ReportDownloadView(APIView):
    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: None, 410: None})
    def get(self, request, pk: int):
        _require(request, "reports.view_report")
        return report_file_response(pk)
