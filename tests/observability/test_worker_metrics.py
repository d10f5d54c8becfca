"""A worker serves its prefork pool's task counters on METRICS_WORKER_PORT (no Prometheus needed)."""

import pytest
import requests

from jobs.enqueue import enqueue
from jobs.tasks import ping_task
from tests.observability.conftest import free_port
from tests.observability.test_metrics_endpoint import sample
from tests.utils import wait_for

pytestmark = pytest.mark.integration


def test_the_worker_port_sums_the_tasks_its_pool_processes_ran(own_worker, tmp_path):
    port = free_port()
    own_worker({"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), "METRICS_WORKER_PORT": str(port),
                "METRICS_WORKER_ADDRESS": "127.0.0.1"})  # fmt: skip
    for note in ("a", "b", "c", "d"):
        enqueue(ping_task, note=note)
    enqueue(ping_task, unexpected="argument")  # a TypeError in the worker: a failure

    def pings() -> float | None:
        body = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        return sample(body, "lms_tasks_total", task="lms.ping", outcome="success")

    def failures() -> float | None:
        body = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        return sample(body, "lms_tasks_total", task="lms.ping", outcome="failure")

    wait_for(
        lambda: pings() == 4 and failures() == 1,
        timeout=30,
        message="the worker metrics to count 4 pings and 1 failure",
    )
    body = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert sample(body, "lms_tasks_total", task="lms.ping", outcome="failure") == 1
    assert sample(body, "lms_task_runtime_seconds_count", task="lms.ping") == 5
    # Each pool process wrote its own file; the scrape summed them.
    assert len(list((tmp_path / "metrics").glob("*.db"))) >= 1
