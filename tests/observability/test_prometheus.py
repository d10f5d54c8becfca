"""A real Prometheus scrapes the web and a worker and reads back what the test caused."""

import subprocess
from pathlib import Path

import pytest

from enrollments.models import Enrollment
from jobs.models import Job
from tests.courses.factories import course_with_lessons
from tests.enrollments.factories import EnrollmentFactory
from tests.jobs.factories import UserFactory
from tests.observability.conftest import free_port, needs_prometheus
from tests.utils import wait_for

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = [pytest.mark.integration, needs_prometheus]


def test_the_alert_rules_pass_promtool():
    result = subprocess.run(
        ["promtool", "check", "rules", str(ROOT / "docs" / "ops" / "alerts.yml")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_reads_the_progress_syncs_the_test_caused(
    own_worker, live_server, prometheus_factory, api_client, settings, tmp_path
):
    settings.METRICS_TOKEN = "scrape-token"
    worker_port = free_port()
    own_worker({
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "worker-metrics"),
        "METRICS_WORKER_PORT": str(worker_port),
        "METRICS_WORKER_ADDRESS": "127.0.0.1",
    })  # fmt: skip
    web = live_server.url.split("//", 1)[1].replace("localhost", "127.0.0.1")
    prometheus = prometheus_factory({
        "lms-web": {"target": web, "token": "scrape-token"},
        "lms-worker": {"target": f"127.0.0.1:{worker_port}"},
    })  # fmt: skip
    wait_for(prometheus.targets_up, timeout=30, message="both targets to be scraped")

    course, lessons = course_with_lessons(3)
    learner = UserFactory()
    EnrollmentFactory(course=course, learner=learner)
    api_client.force_authenticate(learner)
    for lesson in lessons:
        assert api_client.post(f"/api/lessons/{lesson.pk}/complete/").status_code == 202
    wait_for(lambda: Enrollment.objects.get(learner=learner).status == "completed", timeout=30,
             message="the syncs to complete the enrollment")  # fmt: skip
    syncs = Job.objects.filter(task_name="enrollments.sync_progress").count()
    assert syncs >= 1

    query = 'sum(lms_tasks_total{job="lms-worker",task="enrollments.sync_progress",outcome="success"})'
    wait_for(lambda: prometheus.query(query) == syncs, timeout=30, message=f"Prometheus to count {syncs} syncs")
    runtime = 'sum(lms_task_runtime_seconds_count{job="lms-worker",task="enrollments.sync_progress"})'
    assert prometheus.query(runtime) == syncs
    # The web's own figures reach Prometheus too: the queues it reads at scrape time.
    assert prometheus.query('lms_queue_depth{job="lms-web",queue="default"}') is not None


def test_the_dashboard_queries_are_valid_promql_over_documented_metrics(tmp_path):
    import json
    import re

    dashboard = json.loads((ROOT / "docs" / "ops" / "grafana-dashboard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": f"dashboard:q{i}", "expr": e}
                                                        for i, e in enumerate(exprs)]}]}  # fmt: skip
    (tmp_path / "dashboard-rules.yml").write_text(json.dumps(rules))
    result = subprocess.run(["promtool", "check", "rules", str(tmp_path / "dashboard-rules.yml")],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    documented = (ROOT / "docs" / "metrics.md").read_text()
    used = {m for e in exprs for m in re.findall(r"\blms_[a-z_]+", e)}
    for name in used:
        base = re.sub(r"_(bucket|count|sum)$", "", name)
        assert f"`{base}`" in documented, f"{name} is used by the dashboard but not documented"
