"""The staff API of bulk imports: upload (202 and the job's URL), progress, cancel, the error report.

Reading needs `enrollments.view_importjob`, uploading `add_importjob`, cancelling `control_importjob`."""

from django.http import Http404, StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from enrollments import selectors
from enrollments.forms import ImportUploadLimit
from enrollments.models import ImportJob
from enrollments.services import imports
from enrollments.spreadsheets import csv_lines
from lms.permissions import ModelPermissions, has_perms


def _absolute(request, url: str) -> str:
    return request.build_absolute_uri(url) if request else url


class ImportCountsSerializer(serializers.Serializer):
    users_created = serializers.IntegerField()
    enrollments_created = serializers.IntegerField()
    already_enrolled = serializers.IntegerField()
    errors = serializers.IntegerField()


class ImportJobSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    uploaded_by = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)  # user deleted
    percent = serializers.SerializerMethodField()
    rate_per_second = serializers.SerializerMethodField()
    eta_seconds = serializers.SerializerMethodField()
    counts = serializers.SerializerMethodField()
    error_report_url = serializers.SerializerMethodField()
    cancel_url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "url",
            "page_url",
            "status",
            "original_name",
            "size",
            "sha256",
            "uploaded_by",
            "send_welcome",
            "total_rows",
            "rows_done",
            "percent",
            "rate_per_second",
            "eta_seconds",
            "counts",
            "error",
            "error_report_url",
            "cancel_url",
            "cancel_requested_at",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def _progress(self, job) -> selectors.ImportProgress:
        return selectors.import_progress(import_job=job)

    def get_url(self, job) -> str:
        return _absolute(self.context.get("request"), reverse("api-import-detail", kwargs={"pk": job.pk}))

    def get_page_url(self, job) -> str:
        return _absolute(self.context.get("request"), reverse("import_detail", kwargs={"pk": job.pk}))

    def get_percent(self, job) -> int:
        return self._progress(job).percent

    def get_rate_per_second(self, job) -> float | None:
        return self._progress(job).rate_per_second

    def get_eta_seconds(self, job) -> int | None:
        return self._progress(job).eta_seconds

    @extend_schema_field(ImportCountsSerializer)
    def get_counts(self, job) -> dict:
        return ImportCountsSerializer(job).data

    def get_error_report_url(self, job) -> str | None:
        if not job.errors:
            return None
        return _absolute(self.context.get("request"), reverse("api-import-errors", kwargs={"pk": job.pk}))

    def get_cancel_url(self, job) -> str | None:
        if job.is_finished:  # cancel ends any unfinished import, even one asked before and left running
            return None
        return _absolute(self.context.get("request"), reverse("api-import-cancel", kwargs={"pk": job.pk}))


class _BooleanDefaultTrue(serializers.BooleanField):
    # DRF reads a boolean missing from form data as False (an unticked checkbox); absent means the default.
    default_empty_html = serializers.empty


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, help_text="The CSV file (UTF-8, comma or semicolon).")
    send_welcome = _BooleanDefaultTrue(
        required=False, default=True, help_text="For rows without a send_welcome value: welcome new learners."
    )


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
            202: OpenApiResponse(ImportJobSerializer, description="Stored and queued; Location is the job's URL."),
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
        # A file that cannot be imported raises Django's ValidationError: a 400 on its field (lms/errors.py).
        job = imports.import_start(
            upload=upload.validated_data["file"],
            uploaded_by=request.user,
            send_welcome=upload.validated_data["send_welcome"],
        )
        data = ImportJobSerializer(job, context={"request": request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})


class ImportDetailView(generics.RetrieveAPIView):
    permission_classes = [ModelPermissions]
    serializer_class = ImportJobSerializer

    def get_queryset(self):
        return selectors.import_list()


class ImportCancelView(APIView):
    permission_classes = [has_perms("enrollments.control_importjob")]

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
    permission_classes = [has_perms("enrollments.view_importjob")]

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
