from django.db import models
from django.db.models import Q
from django.urls import reverse

from courses.markdown import render_markdown


class CourseQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)


class Course(models.Model):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    summary = models.CharField(max_length=300, blank=True)
    description = models.TextField(blank=True)
    is_published = models.BooleanField("published", default=False, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when a course-wide progress recompute is queued, cleared when it starts: triggers that arrive
    # in between collapse into the one queued run.
    progress_recompute_requested_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = CourseQuerySet.as_manager()

    class Meta:
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("course_detail", kwargs={"slug": self.slug})


class LessonQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)

    def visible_to_learners(self):
        return self.filter(is_published=True, course__is_published=True)


class Lesson(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    position = models.PositiveIntegerField(default=0, db_index=True)
    body = models.TextField("body (Markdown)", blank=True)
    body_html = models.TextField(blank=True, editable=False)
    is_published = models.BooleanField("published", default=True)
    estimated_minutes = models.PositiveSmallIntegerField(default=5)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LessonQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "slug"], name="courses_lesson_slug_unique_per_course"),
            models.CheckConstraint(condition=Q(estimated_minutes__lte=10000), name="courses_lesson_minutes_sane"),
        ]
        indexes = [models.Index(fields=["course", "is_published", "position"], name="courses_lesson_listing")]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        # Rendered once on write, so reads never pay for Markdown or sanitising.
        self.body_html = render_markdown(self.body)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "body" in update_fields:
            kwargs["update_fields"] = {*update_fields, "body_html"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("lesson_detail", kwargs={"course_slug": self.course.slug, "lesson_slug": self.slug})

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # Remembered so a save can tell whether publication changed (which moves everyone's progress).
        instance._loaded_is_published = instance.__dict__.get("is_published")
        return instance
