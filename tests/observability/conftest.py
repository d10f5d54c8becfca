"""Real processes for the observability tests: a Prometheus server, a worker of their own."""

import json
import shutil
import socket
import subprocess

import pytest
import requests

from tests.utils import wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


needs_prometheus = pytest.mark.skipif(
    shutil.which("prometheus") is None or shutil.which("promtool") is None,
    reason="Debian's prometheus package is not installed (.ci/install-tools installs it)",
)


class PrometheusServer:
    """`prometheus` on 127.0.0.1 with a temporary storage dir, scraping the given jobs every second."""

    def __init__(self, tmp_path, jobs: dict[str, dict]):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = tmp_path / "prometheus.yml"
        scrape = [
            {
                "job_name": name,
                "scrape_interval": "1s",
                "scrape_timeout": "1s",
                "static_configs": [{"targets": [job["target"]]}],
                **({"authorization": {"credentials": job["token"]}} if job.get("token") else {}),
            }
            for name, job in jobs.items()
        ]
        config.write_text(json.dumps({"global": {"scrape_interval": "1s"}, "scrape_configs": scrape}))  # YAML
        self.log = open(tmp_path / "prometheus.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        wait_for(self._ready, timeout=30, message="Prometheus to be ready")

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"prometheus exited: {self.log.name}")
        try:
            return requests.get(f"{self.url}/-/ready", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def query(self, expr: str) -> float | None:
        body = requests.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=5).json()
        result = body["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def targets_up(self) -> bool:
        body = requests.get(f"{self.url}/api/v1/targets", timeout=5).json()
        targets = body["data"]["activeTargets"]
        return bool(targets) and all(t["health"] == "up" for t in targets)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture
def prometheus_factory(tmp_path):
    started = []

    def start(jobs: dict[str, dict]) -> PrometheusServer:
        server = PrometheusServer(tmp_path, jobs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def no_worker(celery_worker_process, transactional_db):
    """No worker consumes: the session's worker is stopped (the `worker` fixture starts it again when a
    later test needs it)."""
    from tests.conftest import purge_queues

    celery_worker_process.stop()
    purge_queues()
    yield
    purge_queues()


@pytest.fixture
def own_worker(no_worker):
    """A worker started with the test's environment, the only one consuming (the session's would take
    half the tasks)."""
    from tests.conftest import WorkerProcess

    started = []

    def start(env: dict[str, str]) -> WorkerProcess:
        worker = WorkerProcess(extra_env=env).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.settle()
        worker.stop()
