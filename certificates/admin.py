from django import forms
from django.contrib import admin, messages
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html

from certificates import services
from certificates.models import Certificate
from jobs.admin import JobInline


class RevokeForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


def task_result_link(task_id: str):
    """A link to the django-celery-results row of a task id (the admin finds it by search)."""
    if not task_id:
        return "-"
    url = reverse("admin:django_celery_results_taskresult_changelist") + f"?q={task_id}"
    return format_html('<a href="{}">{}</a>', url, task_id[:8])


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    inlines = [JobInline]
    list_display = ["display_code", "learner_name", "course_title", "status", "issued_at", "render_task"]
    list_filter = ["status", "enrollment__course", "issued_at"]
    search_fields = ["code", "learner_name", "enrollment__learner__email", "course_title"]
    list_select_related = ["enrollment__course"]
    readonly_fields = [
        "enrollment",
        "code",
        "display_code",
        "learner_name",
        "course_title",
        "status",
        "pdf_link",
        "pdf_sha256",
        "template_version",
        "issued_at",
        "revoked_at",
        "revoked_reason",
        "revoked_by",
        "render_task",
        "render_attempts",
        "last_error",
        "created_at",
        "updated_at",
    ]
    exclude = ["render_task_id", "pdf"]
    actions = ["revoke", "regenerate", "retry_failed"]

    def has_add_permission(self, request) -> bool:
        return False  # certificates are issued by the system, never typed in

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Every field is read-only (the actions change certificates): no Save buttons over nothing to save.
        extra = {"show_save": False, "show_save_and_continue": False, "show_save_and_add_another": False}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    @admin.display(description="PDF")
    def pdf_link(self, obj):
        # Through a view that reads storage (whatever backend), never the bare /media/ URL, which is not
        # served in production and would leak revoked PDFs if it were.
        if not obj.pdf:
            return "-"
        url = reverse("certificate_staff_download", kwargs={"pk": obj.pk})
        return format_html('<a href="{}">Download the PDF</a> ({})', url, obj.pdf.name)

    @admin.display(description="Render task")
    def render_task(self, obj):
        return task_result_link(obj.render_task_id)

    @admin.action(description="Revoke selected certificates…", permissions=["change"])
    def revoke(self, request, queryset):
        if "apply" in request.POST:
            form = RevokeForm(request.POST)
            if form.is_valid():
                for certificate in queryset:
                    services.certificate_revoke(
                        certificate=certificate, reason=form.cleaned_data["reason"], by=request.user
                    )
                self.message_user(request, f"Revoked {queryset.count()} certificate(s).")
                return None
        else:
            form = RevokeForm()
        return render(
            request,
            "admin/certificates/revoke.html",
            {**self.admin_site.each_context(request), "certificates": queryset, "form": form, "opts": self.model._meta},
        )

    @admin.action(description="Regenerate PDFs of selected certificates (keeps codes)", permissions=["change"])
    def regenerate(self, request, queryset):
        count = 0
        for certificate in queryset.exclude(status=Certificate.Status.REVOKED):
            services.certificate_request_regenerate(certificate_id=certificate.pk)
            count += 1
        self.message_user(request, f"Queued regeneration of {count} certificate(s).")

    @admin.action(description="Retry failed certificates", permissions=["change"])
    def retry_failed(self, request, queryset):
        failed = list(queryset.filter(status=Certificate.Status.FAILED).values_list("enrollment_id", flat=True))
        for enrollment_id in failed:
            services.certificate_request_issue(enrollment_id=enrollment_id)
        level = messages.SUCCESS if failed else messages.WARNING
        self.message_user(request, f"Queued {len(failed)} failed certificate(s) for another render.", level)
