"""The imports admin: the add page uploads a file through the staff page's form and service; the rest is
read-only, with cancel and resume actions for staff who hold `imports.control_importjob`."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from imports import selectors, services
from imports.forms import ImportUploadForm
from imports.models import ImportJob
from imports.views import import_upload_form, with_upload_limit
from jobs.admin import JobInline

# The warning colours of the learner site (site.css .status.warning), readable in the admin's light and
# dark themes alike.
WARNING_STYLE = "color: #7a3e00; background: #fff4d6; padding: 1px 6px; border-radius: 4px;"


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Imports: the add page uploads a file (the staff page's form and service); the rest is read-only."""

    list_display = [
        "id",
        "original_name",
        "status_display",
        "progress_bar",
        "users_created",
        "enrollments_created",
        "already_enrolled",
        "errors",
        "uploaded_by",
        "created_at",
    ]
    list_filter = ["status", "created_at"]
    search_fields = ["original_name", "sha256", "uploaded_by__email"]
    list_select_related = ["uploaded_by"]
    date_hierarchy = "created_at"
    fields = [
        "original_name",
        "status_display",
        "links",
        "progress_bar",
        "total_rows",
        "rows_done",
        "users_created",
        "enrollments_created",
        "already_enrolled",
        "errors",
        "error",
        "send_welcome",
        "uploaded_by",
        "size",
        "sha256",
        "delimiter",
        "header",
        "chunk_rows",
        "cancel_requested_at",
        "created_at",
        "started_at",
        "finished_at",
    ]
    readonly_fields = fields
    inlines = [JobInline]
    actions = ["cancel", "resume"]

    def has_change_permission(self, request, obj=None) -> bool:
        # View only: saving the form would write back a stale copy of a running import's progress.
        return False

    def has_control_permission(self, request) -> bool:
        return request.user.has_perm("imports.control_importjob")

    @admin.display(description="Status", ordering="status")
    def status_display(self, obj):
        if obj.completed_with_errors or obj.status == ImportJob.Status.FAILED:
            # The admin's own warning colours: a run with failed rows must not read as a plain success.
            return format_html(
                '<strong class="import-status warning" style="{}">{}</strong>', WARNING_STYLE, obj.status_label
            )
        return obj.status_label

    @admin.display(description="Progress")
    def progress_bar(self, obj):
        total = "…" if obj.total_rows is None else obj.total_rows
        return format_html(
            '<progress value="{}" max="100" aria-label="progress"></progress> {}% ({} / {} rows)',
            obj.percent,
            obj.percent,
            obj.rows_done,
            total,
        )

    @admin.display(description="Links")
    def links(self, obj):
        page = format_html('<a href="{}">Live progress</a>', reverse("import_detail", args=[obj.pk]))
        if not obj.errors:
            return page
        report = reverse("api-import-errors", args=[obj.pk])
        return format_html('{} · <a href="{}">Error report (CSV)</a>', page, report)

    @admin.action(
        description="Cancel selected unfinished imports (rows already imported stay)", permissions=["control"]
    )
    def cancel(self, request, queryset):
        asked = sum(services.import_cancel(import_job=job) for job in queryset)
        self.message_user(request, f"Cancelled {asked} import(s).")

    @admin.action(description="Resume selected unfinished imports (after a lost task)", permissions=["control"])
    def resume(self, request, queryset):
        resumed = sum(services.import_resume(import_job=job) for job in queryset)
        self.message_user(request, f"Queued {resumed} import run(s).")

    def get_urls(self):
        # The add page reads uploads: the size limit goes in before the admin's CSRF check parses the body.
        add = with_upload_limit(self.admin_site.admin_view(self.add_view))
        return [path("add/", add, name="imports_importjob_add"), *super().get_urls()]

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form, job = import_upload_form(request)
            if job is not None:
                self.log_addition(request, job, f"Uploaded {job.original_name}")
                self.message_user(request, f"“{job.original_name}” is uploaded; the import runs in the background.")
                return redirect("import_detail", pk=job.pk)
        else:
            form = ImportUploadForm()
        context = {
            **self.admin_site.each_context(request),
            "title": "Import enrollments from a CSV file",
            "form": form,
            "opts": self.model._meta,
            "recent": selectors.import_list()[:5] if self.has_view_permission(request) else [],
        }
        return TemplateResponse(request, "imports/admin_upload.html", context)
