from django.contrib import admin
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html

from courses.models import Course, Lesson


class LessonInline(admin.TabularInline):
    model = Lesson
    fields = ["position", "title", "slug", "is_published", "estimated_minutes"]
    prepopulated_fields = {"slug": ("title",)}
    ordering = ["position", "id"]
    extra = 0
    show_change_link = True


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "slug",
        "is_published",
        "published_lessons",
        "enrollment_count",
        "analytics_link",
        "updated_at",
    ]
    list_filter = ["is_published"]
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ("title",)}
    inlines = [LessonInline]
    actions = ["publish", "unpublish"]
    readonly_fields = ["analytics_link", "reports_link", "learners_link"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _published_lessons=Count("lessons", filter=Q(lessons__is_published=True), distinct=True),
                _enrollments=Count("enrollments", distinct=True),
            )
        )

    @admin.display(description="Published lessons", ordering="_published_lessons")
    def published_lessons(self, obj) -> int:
        return obj._published_lessons

    @admin.display(description="Enrollments", ordering="_enrollments")
    def enrollment_count(self, obj) -> int:
        return obj._enrollments

    @admin.display(description="Analytics")
    def analytics_link(self, obj):
        if not obj.pk:
            return "-"
        # By URL name: the analytics page belongs to the enrollments app, which courses does not import.
        return format_html('<a href="{}">Analytics</a>', reverse("course_analytics", kwargs={"slug": obj.slug}))

    @admin.display(description="Learners")
    def learners_link(self, obj):
        if not obj.pk:
            return "-"
        url = reverse("course_learners", kwargs={"slug": obj.slug})
        return format_html('<a href="{}">Learners: progress, last activity, each one\'s lessons and messages</a>', url)

    @admin.display(description="Reports")
    def reports_link(self, obj):
        if not obj.pk:
            return "-"
        # By URL name too: reports sit above courses.
        url = reverse("admin:reports_report_add") + f"?course={obj.pk}"
        return format_html('<a href="{}">Generate a report (progress, lesson completion, certificates)</a>', url)

    @admin.action(description="Publish selected courses", permissions=["change"])
    def publish(self, request, queryset):
        self.message_user(request, f"Published {queryset.update(is_published=True)} course(s).")

    @admin.action(description="Unpublish selected courses", permissions=["change"])
    def unpublish(self, request, queryset):
        self.message_user(request, f"Unpublished {queryset.update(is_published=False)} course(s).")


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "position", "is_published", "estimated_minutes"]
    list_filter = ["is_published", "course"]
    list_editable = ["position", "is_published"]
    list_select_related = ["course"]
    search_fields = ["title", "slug", "course__title"]
    prepopulated_fields = {"slug": ("title",)}
    readonly_fields = ["rendered_preview"]
    fields = ["course", "title", "slug", "position", "is_published", "estimated_minutes", "body", "rendered_preview"]

    @admin.display(description="Preview (sanitised HTML)")
    def rendered_preview(self, obj):
        from django.utils.safestring import mark_safe

        return mark_safe(obj.body_html) if obj.pk else "-"
