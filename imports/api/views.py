"""The staff API of bulk imports: upload (202 and the job's URL), progress, cancel, the error report.

Reading needs `imports.view_importjob`, uploading `add_importjob`, cancelling `control_importjob`."""

from django.http import Http404, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import ModelPermissions, has_perms
from core.spreadsheets import csv_lines
from imports import selectors
from imports import services as imports
from imports.api.serializers import ImportJobSerializer, ImportUploadSerializer
from imports.forms import ImportUploadLimit
from imports.models import ImportJob


class _ImportUploadLimitMixin:
    """Installs the upload size limit before DRF's authentication (the session's CSRF check) reads the body."""

    def initialize_request(self, request, *args, **kwargs):
        if request.method == "POST":
            self.upload_limit = ImportUploadLimit.install(request)
        return super().initialize_request(request, *args, **kwargs)


class ImportListCreateView(_ImportUploadLimitMixin, generics.ListAPIView):
    permission_classes = [ModelPermissions]
    parser_classes = [MultiPartParser]
    serializer_class = ImportJobSerializer

    def get_queryset(self):
        return selectors.import_list()

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            202: OpenApiResponse(
                ImportJobSerializer,
                description="Stored and queued; Location is its operation (GET /api/operations/{id}/), the body is "
                "the import, whose `url` keeps working.",
            ),
        },
        parameters=[
            OpenApiParameter("Location", OpenApiTypes.URI, OpenApiParameter.HEADER, response=[202]),
        ],
    )
    def post(self, request):
        data = request.data  # parses the body: the size limit stops at the file part if it is too large
        limit = getattr(self, "upload_limit", None)
        if limit is not None and limit.too_large:
            raise serializers.ValidationError({"file": [imports.too_large_message(limit.size)]}, code="too_large")
        upload = ImportUploadSerializer(data=data)
        upload.is_valid(raise_exception=True)
        # A file that cannot be imported raises Django's ValidationError: a 400 on its field (core/errors.py).
        job = imports.import_start(
            upload=upload.validated_data["file"],
            uploaded_by=request.user,
            send_welcome=upload.validated_data["send_welcome"],
        )
        data = ImportJobSerializer(job, context={"request": request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["operation_url"]})


class ImportDetailView(generics.RetrieveAPIView):
    permission_classes = [ModelPermissions]
    serializer_class = ImportJobSerializer

    def get_queryset(self):
        return selectors.import_list()


class ImportCancelView(APIView):
    permission_classes = [has_perms("imports.control_importjob")]

    @extend_schema(
        request=None,
        responses={
            202: OpenApiResponse(ImportJobSerializer, description="Cancelled (after the chunk being written)."),
            409: OpenApiResponse(ImportJobSerializer, description="Already finished (or already asked)."),
        },
    )
    def post(self, request, pk: int):
        job = selectors.import_list().filter(pk=pk).first()
        if job is None:
            raise Http404
        asked = imports.import_cancel(import_job=job)
        data = ImportJobSerializer(job, context={"request": request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED if asked else status.HTTP_409_CONFLICT)


class ImportErrorReportView(APIView):
    permission_classes = [has_perms("imports.view_importjob")]

    @extend_schema(
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="row, the row's columns, reason")}
    )
    def get(self, request, pk: int):
        job = selectors.import_list().filter(pk=pk).first()
        if job is None:
            raise Http404
        return import_error_report_response(job)


def import_error_report_response(job: ImportJob) -> StreamingHttpResponse:
    """The error report as a streamed CSV (constant memory): row, the row's own columns, reason; no cell
    a spreadsheet would read as a formula."""

    def rows():
        yield ["row", *job.header, "reason"]
        for row_number, values, reason in selectors.import_error_rows(import_job=job):
            yield [row_number, *values, reason]

    def lines():
        yield "\ufeff"  # BOM: spreadsheets then read UTF-8
        yield from csv_lines(rows(), delimiter=job.delimiter)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response
