"""`make run` keeps the web's and the worker's metrics files apart and serves the worker's pool."""

from pathlib import Path

from devrun.run import _service_environment


def test_web_and_worker_get_their_own_metrics_directories_and_the_worker_a_port(monkeypatch):
    monkeypatch.delenv("METRICS_WORKER_PORT", raising=False)
    var = Path("/srv/lms/var")
    web, worker = _service_environment("web", var), _service_environment("worker", var)
    assert web["PROMETHEUS_MULTIPROC_DIR"] == "/srv/lms/var/metrics/web"
    assert worker["PROMETHEUS_MULTIPROC_DIR"] == "/srv/lms/var/metrics/worker"
    assert (worker["METRICS_WORKER_PORT"], worker["METRICS_WORKER_ADDRESS"]) == ("9808", "127.0.0.1")
    assert "METRICS_WORKER_PORT" not in web
    assert _service_environment("beat", var) is None  # beat, relay, flower inherit the plain environment


def test_an_operator_port_for_the_worker_is_kept(monkeypatch):
    monkeypatch.setenv("METRICS_WORKER_PORT", "9999")
    assert _service_environment("worker", Path("/v"))["METRICS_WORKER_PORT"] == "9999"
