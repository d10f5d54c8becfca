"""docker-compose.yml and the Dockerfile: valid against the compose spec, and shaped for the documented
operations (`docker-compose up -d --scale celery_worker=5`, exactly one beat, Flower behind basic auth).

No database and no Docker engine: the file is checked as data.
"""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
SERVICES = {"postgres", "redis", "web", "celery_worker", "celery_beat", "flower"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _command(service: dict) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else command


def test_compose_file_is_valid_against_the_compose_spec():
    # The schema ships inside check-jsonschema (--builtin-schema), so this needs no network.
    check = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(check), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_defines_the_six_services(services):
    assert set(services) >= SERVICES


def test_celery_worker_can_be_scaled_without_name_or_port_clashes(services):
    worker = services["celery_worker"]
    assert "container_name" not in worker
    assert "ports" not in worker
    # A fixed replica count would fight --scale.
    assert "replicas" not in worker.get("deploy", {})


def test_no_service_pins_a_container_name_that_would_block_scaling(services):
    assert [name for name, service in services.items() if "container_name" in service] == []


def test_exactly_one_beat_runs(services):
    beats = [name for name, service in services.items() if " beat" in f" {_command(service)}"]
    assert beats == ["celery_beat"]
    beat = services["celery_beat"]
    assert beat.get("deploy", {}).get("replicas", 1) == 1
    assert "jobs.beat:DatabaseScheduler" in _command(beat)


def test_worker_consumes_every_queue(services):
    command = _command(services["celery_worker"])
    assert " worker" in command
    for queue in ("default", "pdf", "email", "webhooks", "imports"):
        assert queue in command


def test_flower_requires_basic_auth_from_the_environment(services):
    command = _command(services["flower"])
    assert "flower" in command
    assert "--basic-auth=${FLOWER_BASIC_AUTH:?" in command


def test_flower_is_published_on_loopback_only(services):
    assert all(str(port).startswith("127.0.0.1:") for port in services["flower"].get("ports", []))


def test_web_runs_gunicorn_and_migrates_first(services):
    command = _command(services["web"])
    assert "gunicorn lms.wsgi" in command
    assert command.index("migrate") < command.index("gunicorn")


def test_every_service_has_a_healthcheck(services):
    missing = [name for name in SERVICES if "test" not in services[name].get("healthcheck", {})]
    assert missing == []


def test_dependencies_wait_for_healthy_services(services):
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on must name conditions"
        for dependency, rule in depends_on.items():
            assert rule == {"condition": "service_healthy"}, f"{name} -> {dependency}: {rule}"
    for name in ("web", "celery_worker", "celery_beat", "flower"):
        assert {"postgres", "redis"} <= set(services[name]["depends_on"]), name


def test_app_services_get_their_configuration_from_the_environment(services):
    for name in ("web", "celery_worker", "celery_beat", "flower"):
        environment = services[name]["environment"]
        for variable in ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "SENTRY_DSN"):
            assert variable in environment, f"{name} lacks {variable}"
        assert environment["SECRET_KEY"].startswith("${SECRET_KEY:?"), "SECRET_KEY must be required, not defaulted"


def test_dockerfile_installs_the_pinned_requirements_and_runs_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "pip install -r requirements.txt" in dockerfile
    assert "collectstatic" in dockerfile
    assert "\nUSER " in dockerfile


def test_workers_consume_every_declared_queue():
    from django.conf import settings

    from devrun.run import _commands

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = compose["services"]["celery_worker"]["command"]
    declared = set(settings.CELERY_TASK_QUEUES_NAMES)
    assert set(command[command.index("-Q") + 1].split(",")) == declared
    worker = _commands(host="127.0.0.1", port="8000", flower_port="5555", var_dir=ROOT / "var")["worker"]
    assert set(worker[worker.index("-Q") + 1].split(",")) == declared


def test_api_throttles_count_in_the_shared_redis_not_per_process(services):
    """DRF's throttles use the default cache: per process (locmem) unless CACHE_URL names a shared one."""
    for name in ("web", "celery_worker", "celery_beat", "flower"):
        environment = services[name]["environment"]
        cache, broker = environment["CACHE_URL"], environment["CELERY_BROKER_URL"]
        assert cache.startswith("${CACHE_URL:-redis://redis:6379/"), f"{name}: {cache}"
        assert cache.rstrip("}").rsplit("/", 1)[1] != broker.rsplit("/", 1)[1], "cache and broker share a database"
