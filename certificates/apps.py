from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    name = "certificates"

    def ready(self) -> None:
        from certificates import receivers
        from jobs.about import about_kwarg

        receivers.connect()
        about_kwarg("certificate_id", "certificates.Certificate")
