"""Staff tools for webhooks: endpoints (with the SSRF guard and a test event), deliveries (filter,
attempts, redeliver) and the events themselves, read-only. Writes go through the services."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html

from core.admin_paging import LargeTableAdmin
from jobs.admin import JobInline
from notifications import selectors
from notifications.events import WEBHOOK_EVENT_CHOICES
from notifications.http.ssrf import UnsafeURL, check_url
from notifications.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent
from notifications.services import webhooks as services
from notifications.services.webhooks import endpoints as endpoint_services


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=WEBHOOK_EVENT_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked means every event type.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "event_types", "is_active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            check_url(url)
        except UnsafeURL as exc:
            raise ValidationError(str(exc)) from None
        return url


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RecentDeliveryInline(ReadOnlyInline):
    model = WebhookDelivery
    verbose_name_plural = f"recent deliveries (last {selectors.RECENT_DELIVERIES_LIMIT})"
    fields = ["event", "status", "attempts", "last_status_code", "next_attempt_at", "delivered_at", "created_at"]
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        # The formset filters by endpoint after this, and a sliced queryset cannot be filtered: so the
        # bound is applied as an id list of this endpoint's latest deliveries.
        queryset = super().get_queryset(request).select_related("event", "endpoint")  # __str__ uses both
        object_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
        if not object_id:
            return queryset.none()
        return queryset.filter(pk__in=selectors.webhook_delivery_ids_recent_for_endpoint(endpoint_id=int(object_id)))


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "description", "is_active", "consecutive_failures", "disabled_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    readonly_fields = [
        "secret",
        "previous_secret_expires_at",
        "consecutive_failures",
        "disabled_at",
        "disabled_reason",
        "created_at",
        "updated_at",
    ]
    inlines = [RecentDeliveryInline]
    actions = ["send_test_event", "rotate_secret"]

    def get_fields(self, request, obj=None):
        fields = ["url", "description", "event_types", "is_active"]
        if obj is None:
            return fields
        # The secret is for those who may change the endpoint (as in the API), not for every reader.
        shown = [f for f in self.readonly_fields if f != "secret" or self.has_change_permission(request, obj)]
        return [*fields, *shown]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            created = endpoint_services.webhook_endpoint_create(
                url=obj.url, description=obj.description, event_types=obj.event_types, is_active=obj.is_active
            )
            obj.pk = created.pk
            obj._state.adding = False
            obj.refresh_from_db()
            return
        changed = {f: form.cleaned_data[f] for f in form.changed_data}
        endpoint_services.webhook_endpoint_update(endpoint=obj, data=changed)

    def delete_model(self, request, obj) -> None:
        endpoint_services.webhook_endpoint_delete(endpoint=obj)

    @admin.action(description="Send a test event", permissions=["change"])
    def send_test_event(self, request, queryset) -> None:
        sent = 0
        for endpoint in queryset:
            try:
                services.webhook_send_test_event(endpoint=endpoint)
                sent += 1
            except ValidationError as exc:
                self.message_user(request, f"{endpoint}: {' '.join(exc.messages)}", messages.WARNING)
        if sent:
            self.message_user(request, f"Test event queued for {sent} endpoint(s).", messages.SUCCESS)

    @admin.action(
        description="Rotate the signing secret (the old one keeps signing for a grace period)", permissions=["change"]
    )
    def rotate_secret(self, request, queryset) -> None:
        rotated = [endpoint_services.webhook_endpoint_secret_rotate(endpoint=endpoint) for endpoint in queryset]
        hours = endpoint_services.webhook_secret_grace().total_seconds() / 3600
        self.message_user(
            request,
            f"New secret for {len(rotated)} endpoint(s), shown on each endpoint's page; deliveries are signed "
            f"with the old secret too for {hours:g} hours.",
            messages.SUCCESS,
        )


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ["attempted_at", "status_code", "duration_ms", "error", "response_excerpt"]
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(LargeTableAdmin):
    list_display = [
        "id",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["status", "endpoint"]
    list_select_related = ["event", "endpoint"]
    search_fields = ["event__event_id", "endpoint__url"]
    readonly_fields = [
        "event_link",
        "endpoint",
        "status",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields
    inlines = [WebhookAttemptInline, JobInline]
    actions = ["redeliver"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="event type", ordering="event__event_type")
    def event_type(self, delivery: WebhookDelivery) -> str:
        return delivery.event.event_type

    @admin.display(description="event")
    def event_link(self, delivery: WebhookDelivery) -> str:
        url = reverse("admin:notifications_webhookevent_change", args=[delivery.event_id])
        return format_html('<a href="{}">{}</a> ({})', url, delivery.event.event_id, delivery.event.event_type)

    @admin.action(description="Redeliver (reset the schedule and send now)", permissions=["change"])
    def redeliver(self, request, queryset) -> None:
        done = sum(services.webhook_redeliver(delivery=delivery) for delivery in queryset)
        skipped = queryset.count() - done
        if done:
            self.message_user(request, f"{done} delivery(ies) queued again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} skipped: succeeded, being sent right now, or to a disabled endpoint.",
                messages.WARNING,
            )


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "event_type", "dedupe_key", "created_at"]
    list_filter = ["event_type"]
    search_fields = ["event_id", "dedupe_key"]
    readonly_fields = ["event_id", "event_type", "dedupe_key", "payload", "created_at"]
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
