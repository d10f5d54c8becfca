from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from enrollments import services
from enrollments.models import CourseStats, Enrollment, LessonCompletion
from jobs.admin import JobInline


class LessonCompletionInline(admin.TabularInline):
    model = LessonCompletion
    fields = ["lesson", "completed_at"]
    readonly_fields = ["lesson", "completed_at"]
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("lesson")


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["learner", "course", "status", "progress_bar", "enrolled_at", "completed_at", "last_synced_at"]
    list_filter = ["status", "course", "enrolled_at"]
    search_fields = ["learner__email", "learner__full_name", "course__title", "course__slug"]
    list_select_related = ["learner", "course"]
    raw_id_fields = ["learner"]
    readonly_fields = ["progress_percent", "enrolled_at", "completed_at", "last_synced_at", "updated_at"]
    inlines = [LessonCompletionInline, JobInline]
    actions = ["sync_progress"]
    date_hierarchy = "enrolled_at"

    @admin.display(description="Progress", ordering="progress_percent")
    def progress_bar(self, obj):
        return format_html(
            '<progress value="{}" max="100" aria-label="progress"></progress> {}%',
            obj.progress_percent,
            obj.progress_percent,
        )

    @admin.action(description="Re-sync progress of selected enrollments (background)", permissions=["change"])
    def sync_progress(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        for enrollment_id in ids:
            services.enrollment_request_progress_sync(enrollment_id=enrollment_id)
        self.message_user(request, f"Queued a progress sync for {len(ids)} enrollment(s).")


@admin.register(CourseStats)
class CourseStatsAdmin(admin.ModelAdmin):
    list_display = [
        "course",
        "enrolled",
        "active",
        "completed",
        "completion_rate",
        "average_progress",
        "updated_at",
        "chart",
    ]
    list_select_related = ["course"]
    search_fields = ["course__title", "course__slug"]
    readonly_fields = [f.name for f in CourseStats._meta.fields]
    actions = ["recompute"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_recompute_permission(self, request) -> bool:
        return request.user.has_perm("enrollments.recompute_coursestats")

    @admin.display(description="Analytics")
    def chart(self, obj):
        return format_html('<a href="{}">Chart</a>', reverse("course_analytics", kwargs={"slug": obj.course.slug}))

    @admin.action(description="Recompute analytics now (background)", permissions=["recompute"])
    def recompute(self, request, queryset):
        ids = list(queryset.values_list("course_id", flat=True))
        services.course_stats_request_recompute(course_ids=ids)
        self.message_user(request, f"Queued analytics for {len(ids)} course(s).")
