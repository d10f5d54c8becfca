from django.apps import AppConfig


class LmsConfig(AppConfig):
    """The project package as an app only for its migrations.

    It owned the jobs and idempotency tables before the `jobs` and `core` apps took them over with their
    rows (jobs/migrations/0001, core/migrations/0001); its migrations stay so that both a new database and
    one made before the move reach the same state. It has no models, views or code of its own.
    """

    name = "lms"
    verbose_name = "LMS (migration history)"
