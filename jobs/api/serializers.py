"""The operation a client polls (GET /api/operations/{id}/)."""

from django.urls import reverse
from rest_framework import serializers

from jobs.models import Operation
from jobs.operations import kind_of


class OperationSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    kind_label = serializers.SerializerMethodField()
    started_by = serializers.SlugRelatedField(slug_field="email", read_only=True, allow_null=True)
    result_url = serializers.SerializerMethodField()
    cancel_url = serializers.SerializerMethodField()

    class Meta:
        model = Operation
        fields = [
            "id",
            "url",
            "kind",
            "kind_label",
            "state",
            "completion",
            "message",
            "started_by",
            "created_at",
            "started_at",
            "finished_at",
            "updated_at",
            "result_url",
            "cancel_url",
        ]
        read_only_fields = fields

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_url(self, operation) -> str:
        return self._absolute(reverse("api-operation-detail", args=[operation.pk]))

    def get_kind_label(self, operation) -> str:
        kind = kind_of(operation)
        return kind.label if kind else operation.kind

    def get_result_url(self, operation) -> str | None:
        """Where the result is (a report's download, an import's detail), once there is one."""
        return self._absolute(operation.result_url) if operation.result_url else None

    def get_cancel_url(self, operation) -> str | None:
        """POST here to cancel; null once the operation has finished."""
        return None if operation.is_finished else self._absolute(reverse("api-operation-cancel", args=[operation.pk]))
