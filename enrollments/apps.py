from django.apps import AppConfig


class EnrollmentsConfig(AppConfig):
    name = "enrollments"

    def ready(self) -> None:
        from enrollments import receivers

        receivers.connect()
