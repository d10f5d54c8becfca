from django.urls import reverse
from rest_framework import serializers

from enrollments.models import Enrollment


class EnrollmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    course = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    learner_email = serializers.EmailField(source="learner.email", read_only=True)
    course_title = serializers.CharField(source="course.title", read_only=True)
    lessons_completed = serializers.IntegerField(read_only=True, default=0)
    # Null until the first lesson is completed.
    last_completed_at = serializers.DateTimeField(read_only=True, allow_null=True, default=None)
    certificate_url = serializers.SerializerMethodField()

    class Meta:
        model = Enrollment
        fields = [
            "id",
            "url",
            "learner_id",
            "learner_email",
            "course_id",
            "course",
            "course_title",
            "status",
            "progress_percent",
            "enrolled_at",
            "completed_at",
            "last_synced_at",
            "last_completed_at",
            "lessons_completed",
            "certificate_url",
            "updated_at",
        ]
        read_only_fields = fields

    def get_url(self, enrollment) -> str:
        request = self.context.get("request")
        url = reverse("api-enrollment-detail", kwargs={"pk": enrollment.pk})
        return request.build_absolute_uri(url) if request else url

    def get_certificate_url(self, enrollment) -> str | None:
        # The certificates app (downstream) adds the reverse one-to-one `certificate` when it exists.
        certificate = getattr(enrollment, "certificate", None)
        if certificate is None or not getattr(certificate, "pk", None):
            return None
        request = self.context.get("request")
        url = reverse("api-certificate-detail", kwargs={"pk": certificate.pk})
        return request.build_absolute_uri(url) if request else url


class LessonCompleteSerializer(serializers.Serializer):
    enrollment_id = serializers.IntegerField()
    lesson_id = serializers.IntegerField()
    completed_at = serializers.DateTimeField()
    created = serializers.BooleanField()
    progress_sync = serializers.ChoiceField(choices=["queued", "not_needed"])
