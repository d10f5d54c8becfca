"""The reports admin: the add page launches a report (then shows its progress, which updates without a
reload, on the operation page); the list links to each finished file's permission-checked download."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from reports import services
from reports.forms import ReportRequestForm
from reports.models import Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "course", "format", "state", "completion", "requested_by", "created_at", "download"]
    list_filter = ["kind", "format", "operation__state"]
    list_select_related = ["operation", "course", "requested_by"]
    search_fields = ["course__title", "course__slug", "requested_by__email"]
    readonly_fields = ["kind", "course", "format", "period_start", "period_end", "requested_by", "rows", "size",
                       "created_at", "completed_at", "expires_at", "progress", "download"]  # fmt: skip
    fields = readonly_fields

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a report is generated, never edited

    @admin.display(description="State", ordering="operation__state")
    def state(self, obj) -> str:
        return obj.operation.get_state_display()

    @admin.display(description="%")
    def completion(self, obj) -> int:
        return obj.operation.completion

    @admin.display(description="Progress")
    def progress(self, obj) -> str:
        url = reverse("operation_detail", args=[obj.operation_id])
        return format_html('<a href="{}">Live progress</a>', url)

    @admin.display(description="File")
    def download(self, obj) -> str:
        if not obj.file:
            return "—"
        return format_html('<a href="{}">Download</a>', reverse("report_download", args=[obj.pk]))

    def delete_model(self, request, obj) -> None:
        obj.file.delete(save=False)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for report in queryset:
            report.file.delete(save=False)
        super().delete_queryset(request, queryset)

    def get_urls(self):
        add = self.admin_site.admin_view(self.add_view)
        return [path("add/", add, name="reports_report_add"), *super().get_urls()]

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ReportRequestForm(request.POST or None, initial={"course": request.GET.get("course")})
        if request.method == "POST" and form.is_valid():
            response = self._launch(request, form)
            if response is not None:
                return response
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": "Generate a report", "keep_days": services.keep_days()}  # fmt: skip
        return TemplateResponse(request, "admin/reports/report/launch.html", context)

    def _launch(self, request, form):
        data = form.cleaned_data
        try:
            report, created = services.report_request(
                kind=data["kind"], fmt=data["format"], course=data["course"], requested_by=request.user,
                period_start=data["period_start"], period_end=data["period_end"],
            )  # fmt: skip
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return None
        if created:
            self.message_user(request, "The report is being generated; you will get an email when it is ready.")
        else:
            self.message_user(request, "The same report is already being generated: here it is.", messages.WARNING)
        return redirect("operation_detail", pk=report.operation_id)
