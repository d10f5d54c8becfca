from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app may use: permissions, the API's error shape, pagination and parsing, idempotency keys,
    request helpers, the base templates and error pages. It imports no other app of the project."""

    name = "core"
    verbose_name = "Core"
