from rest_framework import serializers

from courses.models import Course, Lesson


class LessonSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lesson
        fields = ["id", "slug", "title", "position", "estimated_minutes", "body_html"]
        read_only_fields = fields


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
