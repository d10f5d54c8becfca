"""Serializers of the reports API."""

from django.urls import reverse
from rest_framework import serializers

from courses.models import Course
from jobs.api.serializers import OperationSerializer
from reports.models import Report


class ReportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Report.Kind.choices)
    format = serializers.ChoiceField(choices=Report.Format.choices, default=Report.Format.CSV)
    course = serializers.SlugRelatedField(
        slug_field="slug", queryset=Course.objects.all(), required=False, allow_null=True,
        help_text="The course's slug; required except for certificates_issued (all courses when omitted).",
    )  # fmt: skip
    period_start = serializers.DateField(required=False, allow_null=True, help_text="certificates_issued: from.")
    period_end = serializers.DateField(required=False, allow_null=True, help_text="certificates_issued: to.")


class ReportSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    course = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    requested_by = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)
    operation = OperationSerializer(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = ["id", "url", "kind", "format", "course", "period_start", "period_end", "requested_by", "rows",
                  "size", "created_at", "completed_at", "expires_at", "operation", "download_url"]  # fmt: skip
        read_only_fields = fields

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_url(self, report) -> str:
        return self._absolute(reverse("api-report-detail", args=[report.pk]))

    def get_download_url(self, report) -> str | None:
        """Set once the file is stored; a permission-checked download (never a public media URL)."""
        return self._absolute(reverse("api-report-download", args=[report.pk])) if report.file else None
