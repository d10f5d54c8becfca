"""Sentry start-up, only called when SENTRY_DSN is set (nothing is sent otherwise)."""

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.logging import LoggingIntegration


def init_sentry(*, dsn: str, environment: str, traces_sample_rate: float, transport=None) -> None:
    """Initialise the SDK with the Django and Celery integrations; beat monitoring on."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        transport=transport,
        integrations=[
            DjangoIntegration(),
            CeleryIntegration(monitor_beat_tasks=True, propagate_traces=True),
            LoggingIntegration(),
        ],
    )
