"""Reads for courses: what learners may see."""

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from courses.models import Course, Lesson


def course_list_published() -> QuerySet[Course]:
    return (
        Course.objects.published()
        .annotate(
            lesson_count=Count("lessons", filter=Q(lessons__is_published=True)),
            total_minutes=Sum("lessons__estimated_minutes", filter=Q(lessons__is_published=True)),
        )
        .order_by("title", "id")
    )


def course_get_published(*, slug: str) -> Course:
    """A published course with its published lessons prefetched; raises Course.DoesNotExist otherwise."""
    return (
        Course.objects.published()
        .prefetch_related(Prefetch("lessons", queryset=Lesson.objects.published(), to_attr="published_lessons"))
        .get(slug=slug)
    )


def lesson_get_visible(*, course_slug: str, lesson_slug: str) -> Lesson:
    return Lesson.objects.visible_to_learners().select_related("course").get(course__slug=course_slug, slug=lesson_slug)
