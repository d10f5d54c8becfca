from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Listens to the other apps' domain signals; nothing imports this app."""

    name = "notifications"

    def ready(self) -> None:
        from jobs.about import about_kwarg
        from jobs.metrics import status_gauge
        from notifications import panels, receivers
        from reports.panels import learner_panel

        receivers.connect()
        learner_panel(panels.emails_panel)
        learner_panel(panels.webhooks_panel)
        about_kwarg("delivery_id", "notifications.WebhookDelivery")
        about_kwarg("endpoint_id", "notifications.WebhookEndpoint")
        about_kwarg("notification_id", "notifications.Notification")
        status_gauge(
            "lms_webhook_deliveries", "Webhook deliveries kept, by status (outcome).", "notifications.WebhookDelivery"
        )
        status_gauge("lms_emails", "Emails (notifications) kept, by status (outcome).", "notifications.Notification")
