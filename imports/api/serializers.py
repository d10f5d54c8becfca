"""Serializers of the imports API."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from imports import selectors
from imports.models import ImportJob


def _absolute(request, url: str) -> str:
    return request.build_absolute_uri(url) if request else url


class ImportCountsSerializer(serializers.Serializer):
    users_created = serializers.IntegerField()
    enrollments_created = serializers.IntegerField()
    already_enrolled = serializers.IntegerField()
    errors = serializers.IntegerField()


class ImportJobSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    operation_url = serializers.SerializerMethodField()
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
            "operation_url",
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

    def get_operation_url(self, job) -> str | None:
        """The operation clients poll, as for every long operation (GET /api/operations/{id}/)."""
        if not job.operation_id:
            return None
        return _absolute(self.context.get("request"), reverse("api-operation-detail", args=[job.operation_id]))

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
