"""factory_boy factories for courses."""

import factory

from courses.models import Course, Lesson


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    title = factory.Sequence(lambda n: f"Course {n}")
    slug = factory.Sequence(lambda n: f"course-{n}")
    summary = "A course."
    is_published = True


class LessonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lesson

    course = factory.SubFactory(CourseFactory)
    title = factory.Sequence(lambda n: f"Lesson {n}")
    slug = factory.Sequence(lambda n: f"lesson-{n}")
    position = factory.Sequence(lambda n: n)
    body = "Some **Markdown**."
    is_published = True


def course_with_lessons(n: int, **course_fields) -> tuple[Course, list[Lesson]]:
    """A published course and its `n` lessons whose creation queued no course-wide recompute.

    Creating lessons normally queues a recompute of the whole course 5 s later, which writes every
    enrollment's right progress by itself: a worker-path test waiting for a progress value would then pass
    even with the path it tests broken (the per-enrollment sync, the outbox relay). The course is created
    with its "recompute requested" marker set, as if one were already waiting, so no lesson edit queues
    one; the check below proves it. Clear the marker to test the recompute itself.
    """
    from django.utils import timezone

    from jobs.models import Job

    course = CourseFactory(progress_recompute_requested_at=timezone.now(), **course_fields)
    lessons = [LessonFactory(course=course, position=i) for i in range(n)]
    recomputes = Job.objects.filter(task_name="enrollments.recompute_course_progress", kwargs__course_id=course.pk)
    assert not recomputes.exists(), "creating the lessons queued a course-wide recompute"
    return course, lessons
