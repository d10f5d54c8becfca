from django.conf import settings
from django.db import models
from django.db.models import Q

from courses.models import Course, Lesson


class Enrollment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    learner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrollments")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="enrollments")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    # Derived: recomputed from LessonCompletion rows by the progress sync, never incremented.
    progress_percent = models.PositiveSmallIntegerField(default=0)
    enrolled_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # Every write sets it, bulk and raw-SQL ones included (they name it): the API's `updated_since` reads it.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-enrolled_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "course"], name="enrollments_one_per_learner_course"),
            models.CheckConstraint(
                condition=Q(progress_percent__gte=0) & Q(progress_percent__lte=100),
                name="enrollments_progress_0_100",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_at__isnull=False),
                name="enrollments_completed_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["course", "id"], name="enrollments_course_id_range"),
            # The incremental sync's order and range: `?updated_since=` (docs/api.md).
            models.Index(fields=["updated_at", "id"], name="enrollments_updated_at_id"),
        ]

    def __str__(self) -> str:
        return f"{self.learner} in {self.course}"


class LessonCompletion(models.Model):
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="completions")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="completions")
    completed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["completed_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["enrollment", "lesson"], name="enrollments_lesson_completed_once"),
        ]

    def __str__(self) -> str:
        return f"{self.lesson} by {self.enrollment.learner_id}"


class CourseStats(models.Model):
    """Analytics of one course, recomputed nightly and on demand from the enrollment rows."""

    course = models.OneToOneField(Course, on_delete=models.CASCADE, related_name="stats", primary_key=True)
    enrolled = models.PositiveIntegerField(default=0)
    active = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    completion_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0)  # percent
    average_progress = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    # Counts of enrollments by progress decile: [0-9], [10-19], ..., [90-100].
    progress_deciles = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "course stats"
        permissions = [("recompute_coursestats", "Can recompute course analytics")]

    def __str__(self) -> str:
        return f"Stats of {self.course}"
