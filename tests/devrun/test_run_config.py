"""The environment `make run` (devrun.run) gives its children: links point at the address served, and the
cache that counts API throttles is shared by every process (the embedded Redis)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PROBE = """
import json, os
from devrun import run
run._configure_environment()
if os.environ.get("PROBE_EMBEDDED_REDIS"):
    redis = run._start_embedded_redis(run.Path(os.environ["LMS_VAR_DIR"]))
import django
django.setup()
from django.conf import settings
from certificates.models import Certificate
try:
    print(json.dumps({
        "SITE_URL": settings.SITE_URL,
        "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
        "CSRF_TRUSTED_ORIGINS": settings.CSRF_TRUSTED_ORIGINS,
        "verification_url": Certificate(code="ABCD1234").get_verification_url(),
        "cache": settings.CACHES["default"],
        "broker": settings.CELERY_BROKER_URL,
    }))
finally:
    if os.environ.get("PROBE_EMBEDDED_REDIS"):
        run._stop_redis(redis)
"""


def probe(tmp_path, **env: str) -> dict:
    unset = (
        "DJANGO_SETTINGS_MODULE",
        "SITE_URL",
        "HOST",
        "PORT",
        "CACHE_URL",
        "CELERY_BROKER_URL",
        "DEBUG",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
    )
    environ = {k: v for k, v in os.environ.items() if k not in unset}
    environ.update(LMS_VAR_DIR=str(tmp_path / "var"), **env)
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_links_point_at_the_port_make_run_serves(tmp_path):
    config = probe(tmp_path, PORT="8310")

    assert config["SITE_URL"] == "http://127.0.0.1:8310"
    assert config["verification_url"] == "http://127.0.0.1:8310/certificates/verify/ABCD1234/"
    assert config["CSRF_TRUSTED_ORIGINS"] == ["http://127.0.0.1:8310"]
    assert "127.0.0.1" in config["ALLOWED_HOSTS"]


def test_a_named_host_is_served_linked_and_allowed(tmp_path):
    config = probe(tmp_path, HOST="lms.localhost", PORT="8311")

    assert config["SITE_URL"] == "http://lms.localhost:8311"
    assert "lms.localhost" in config["ALLOWED_HOSTS"]


def test_an_explicit_site_url_wins(tmp_path):
    config = probe(tmp_path, PORT="8310", SITE_URL="https://lms.example.com")

    assert config["verification_url"].startswith("https://lms.example.com/")


def test_the_cache_is_another_database_of_the_embedded_redis(tmp_path):
    config = probe(tmp_path, PROBE_EMBEDDED_REDIS="1")

    assert config["cache"]["BACKEND"] == "core.cache.FailOpenRedisCache"
    broker_server, _, broker_db = config["broker"].rpartition("/")
    assert config["cache"]["LOCATION"] == f"{broker_server}/1"
    assert broker_db == "0"
