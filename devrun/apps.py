from django.apps import AppConfig


class DevrunConfig(AppConfig):
    """The development runner (`make run`: python -m devrun) and its demo data (`manage.py seed_demo`)."""

    name = "devrun"
    verbose_name = "Development runner"
