"""Configuration from the environment: production refuses unsafe settings; errors are one line."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "SECRET_KEY": "k3Jp9-vQ2!zR7#mW4^tY8&bN1*cX6(dL5)eH0_fG2+aS9=uI3-Lq8Vw2Ex5Rt7Yz4Ui",
    "ALLOWED_HOSTS": "lms.example.com",
    "SITE_URL": "https://lms.example.com",
    "DATABASE_URL": "sqlite:////tmp/lms-check-deploy.sqlite3",
}


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    # Only what a process needs to run: nothing of the test run's own configuration leaks in.
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "CELERY_BROKER_URL") if k in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "lms.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_no_warnings_in_a_production_like_environment():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_debug_is_off_unless_set():
    result = _manage("shell", "-c", "from django.conf import settings; print(settings.DEBUG)", env=PRODUCTION_ENV)
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "lms: configuration error: SECRET_KEY is not set. Set SECRET_KEY in the environment "
        "(or DEBUG=true for local development)."
    ]


def test_malformed_database_url_is_one_clear_line():
    result = _manage("check", env={**PRODUCTION_ENV, "DATABASE_URL": "nonsense://::"})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DATABASE_URL is malformed" in lines[0]


def test_unreachable_database_is_one_clear_line():
    # Port 1 on loopback refuses connections at once: a real unreachable server, nothing mocked.
    result = _manage("migrate", env={**PRODUCTION_ENV, "DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere"})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("lms: Cannot reach the database (postgresql 127.0.0.1:1/nowhere)")
    assert "DATABASE_URL" in lines[0]


def test_sentry_is_not_initialised_without_a_dsn():
    import sentry_sdk

    assert not settings.SENTRY_DSN
    assert not sentry_sdk.get_client().is_active()


def test_celery_is_configured_for_reliability():
    from lms.celery import app

    conf = app.conf
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.result_backend == "jobs.results.ResultBackend" and conf.result_extended and conf.task_track_started
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_soft_time_limit and conf.task_time_limit > conf.task_soft_time_limit
    timeout = settings.CELERY_VISIBILITY_TIMEOUT
    assert conf.broker_transport_options["visibility_timeout"] == timeout
    assert conf.result_backend_transport_options["visibility_timeout"] == timeout
    assert timeout > settings.CELERY_LONGEST_TASK_SECONDS + settings.CELERY_LONGEST_COUNTDOWN_SECONDS
    assert timeout <= 15 * 60, "a short visibility timeout is what brings a dead worker's task back soon"


def test_every_project_task_has_a_stable_name_a_queue_and_time_limits():
    from celery import current_app

    from lms.celery import app

    app.loader.import_default_modules()
    ours = {name: task for name, task in current_app.tasks.items() if not name.startswith("celery.")}
    assert "lms.ping" in ours and "enrollments.sync_progress" in ours
    longest = 0
    for name, task in ours.items():
        app_label, _, verb_noun = name.partition(".")
        labels = {"lms", "accounts", "courses", "enrollments", "certificates", "notifications", "reports"}
        assert app_label in labels, name
        assert (verb_noun and "_" in verb_noun) or verb_noun == "ping", name
        assert task.time_limit and task.soft_time_limit, f"{name} must declare its own time limits"
        longest = max(longest, task.time_limit)
    assert longest <= settings.CELERY_LONGEST_TASK_SECONDS


def test_tasks_declare_their_queues_and_the_workers_consume_them():
    from jobs.enqueue import queue_for
    from lms.celery import app

    app.loader.import_default_modules()
    assert queue_for("certificates.issue_certificate") == "pdf"
    assert queue_for("notifications.send_email") == "email"
    assert queue_for("notifications.deliver_webhook") == "webhooks"
    assert queue_for("enrollments.import_process") == "imports"
    assert queue_for("reports.generate_report") == "reports"
    assert queue_for("enrollments.sync_progress") == "default"
    # Every queue a task names is one the workers consume.
    consumed = {q.name for q in app.conf.task_queues}
    named = {queue_for(name) for name in app.tasks if not name.startswith("celery.")}
    assert named <= consumed, named - consumed


def test_periodic_tasks_exist_after_migrate(db):
    from django_celery_beat.models import PeriodicTask

    names = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {
        "lms.prune_results",
        "lms.sweep_stuck_jobs",
        "lms.relay_outbox",
        "notifications.retry_due_webhooks",
        "enrollments.recompute_all_stats",
        "certificates.regenerate_outdated",
    } <= names
