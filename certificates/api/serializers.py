from django.urls import reverse
from rest_framework import serializers

from certificates.models import Certificate


def _absolute(request, url: str) -> str:
    return request.build_absolute_uri(url) if request else url


class CertificateSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    enrollment_url = serializers.SerializerMethodField()
    learner_id = serializers.IntegerField(source="enrollment.learner_id", read_only=True)
    learner_email = serializers.EmailField(source="enrollment.learner.email", read_only=True)
    course = serializers.SlugRelatedField(source="enrollment.course", slug_field="slug", read_only=True)
    code = serializers.CharField(source="display_code", read_only=True)
    verification_url = serializers.CharField(source="get_verification_url", read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Certificate
        fields = [
            "id",
            "url",
            "enrollment",
            "enrollment_url",
            "learner_id",
            "learner_email",
            "course",
            "learner_name",
            "course_title",
            "status",
            "code",
            "issued_at",
            "revoked_at",
            "verification_url",
            "download_url",
            "updated_at",
        ]
        read_only_fields = fields

    def get_url(self, certificate) -> str:
        return _absolute(self.context.get("request"), reverse("api-certificate-detail", kwargs={"pk": certificate.pk}))

    def get_enrollment_url(self, certificate) -> str:
        url = reverse("api-enrollment-detail", kwargs={"pk": certificate.enrollment_id})
        return _absolute(self.context.get("request"), url)

    def get_download_url(self, certificate) -> str | None:
        if not certificate.pdf:
            return None
        request = self.context.get("request")
        url = f"/api/certificates/{certificate.pk}/pdf/"
        return request.build_absolute_uri(url) if request else url


class CertificateVerificationSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="display_code", read_only=True)
    valid = serializers.BooleanField(source="is_valid", read_only=True)

    class Meta:
        model = Certificate
        fields = ["code", "learner_name", "course_title", "issued_at", "status", "valid", "revoked_at"]
        read_only_fields = fields


class CertificateRevokeSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why; kept on the certificate.")


class CertificateRegenerateSerializer(serializers.Serializer):
    refresh_names = serializers.BooleanField(
        default=False, help_text="Take the learner's current name and the course's current title."
    )
