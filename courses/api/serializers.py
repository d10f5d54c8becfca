from rest_framework import serializers

from courses.models import Course, Lesson


class LessonSerializer(serializers.ModelSerializer):
    """A syllabus entry; its body only when the view says the reader may read it (context `lesson_bodies`)."""

    body_html = serializers.SerializerMethodField(
        help_text="The lesson's content (sanitised HTML); null unless the reader has a live enrollment in the "
        "course or is staff with the view permission on lessons."
    )

    class Meta:
        model = Lesson
        fields = ["id", "slug", "title", "position", "estimated_minutes", "body_html"]
        read_only_fields = fields

    def get_body_html(self, lesson) -> str | None:
        return lesson.body_html if self.context.get("lesson_bodies") else None


class CourseListSerializer(serializers.ModelSerializer):
    lesson_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Course
        fields = ["id", "slug", "title", "summary", "lesson_count"]
        read_only_fields = fields


class CourseDetailSerializer(serializers.ModelSerializer):
    lessons = LessonSerializer(source="published_lessons", many=True, read_only=True)

    class Meta:
        model = Course
        fields = ["id", "slug", "title", "summary", "description", "lessons"]
        read_only_fields = fields
