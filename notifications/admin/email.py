from django.contrib import admin

from core.admin_paging import LargeTableAdmin
from jobs.admin import JobInline
from notifications.models import Notification
from notifications.services.email import notification_resend


@admin.register(Notification)
class NotificationAdmin(LargeTableAdmin):
    inlines = [JobInline]
    list_display = ["kind", "recipient", "status", "attempts", "created_at", "sent_at", "provider_message_id"]
    list_filter = ["status", "kind", "created_at"]
    search_fields = ["recipient", "dedupe_key", "provider_message_id", "subject"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    list_select_related = ["content_type"]
    actions = ["resend"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Resend selected emails that were not sent", permissions=["change"])
    def resend(self, request, queryset):
        pending = queryset.exclude(status=Notification.Status.SENT)
        for notification in pending:
            notification_resend(notification=notification)
        self.message_user(request, f"Queued {pending.count()} email(s) to be sent again.")
