from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Listens to the other apps' domain signals; nothing imports this app."""

    name = "notifications"

    def ready(self) -> None:
        from notifications import receivers

        receivers.connect()
