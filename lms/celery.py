"""The Celery application: configured from Django settings (CELERY_ prefix), tasks autodiscovered."""

import os
import re
from collections.abc import Mapping

import celery.app.utils
from celery import Celery, signals
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")

app = Celery("lms")

app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The worker's and publisher's hooks (service checks, metrics, heartbeats, the publish-time header) belong to
# the jobs app; importing the module connects them before any worker starts.
import jobs.worker  # noqa: E402, F401

# `celery report` (and Flower's config page) print every Django setting, masking only names that match
# Celery's HIDDEN_SETTINGS (KEY, SECRET, PASS, TOKEN, DATABASE, ...) and the broker's URL under its Celery
# name. Celery has no option for the pattern, so its filter is wrapped: names holding DSNs and
# credentials are masked too, and so is the password of any URL in any setting (CELERY_BROKER_URL,
# CACHES' LOCATION, ...).
_ALSO_HIDDEN = re.compile(r"DSN|AUTH|CREDENTIAL|PRIVATE", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+(?=@)", re.IGNORECASE)
_MASK = "*" * 8
_celery_filter_hidden_settings = celery.app.utils.filter_hidden_settings


def _mask(key, value):
    if isinstance(key, str) and _ALSO_HIDDEN.search(key) and value:
        return _MASK
    if isinstance(value, str):
        return _URL_PASSWORD.sub(lambda match: match.group("head") + _MASK, value)
    if isinstance(value, Mapping):
        return {k: _mask(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mask(None, item) for item in value)
    return value


def filter_hidden_settings(conf):
    return {key: _mask(key, value) for key, value in _celery_filter_hidden_settings(conf).items()}


celery.app.utils.filter_hidden_settings = filter_hidden_settings


@signals.import_modules.connect
def _declare_queues(sender=None, **kwargs) -> None:
    # Declared from settings so `celery worker -Q pdf` and the routes agree on one list of names.
    from django.conf import settings

    app.conf.task_queues = [Queue(name, routing_key=name) for name in settings.CELERY_TASK_QUEUES_NAMES]
