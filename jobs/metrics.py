"""Prometheus metrics: what web and worker processes count, what a scrape reads, and `/metrics` itself.

Counters live in the process that decides the outcome (a prefork pool child runs the task, a gunicorn
worker answers the request). With several processes per service, prometheus-client's multiprocess mode
keeps them in files under PROMETHEUS_MULTIPROC_DIR (wiped at start by `make run` and the compose
entrypoints) and a scrape sums them. The web serves `/metrics`; a worker started with METRICS_WORKER_PORT
serves its pool's files on that port from its main process (`worker_init` below). Figures read at scrape
time (queue depth and age, outbox, deliveries and emails by status) are served by the web only, so a
Prometheus scraping both never counts them twice. docs/metrics.md describes every metric.
"""

import hmac
import ipaddress
import json
import logging
import os
import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

TASKS = Counter(
    "lms_tasks", "Celery tasks finished, by task name and outcome (success, failure, retry).", ["task", "outcome"]
)
TASK_RUNTIME = Histogram(
    "lms_task_runtime_seconds",
    "Time a task's body ran in the worker, by task name.",
    ["task"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180),
)
HTTP_REQUESTS = Counter(
    "lms_http_requests", "HTTP requests answered, by view (URL name), method and status.", ["view", "method", "status"]
)
HTTP_DURATION = Histogram(
    "lms_http_request_duration_seconds",
    "Time to answer an HTTP request, by view.",
    ["view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

# A header our publish adds to every message, so the queue's oldest message tells its age at scrape time.

_started: dict[str, float] = {}  # task id -> perf_counter at prerun, in the pool process running it


def task_started(task_id: str) -> None:
    _started[task_id] = time.perf_counter()


def task_finished(task_id: str, task_name: str) -> None:
    started = _started.pop(task_id, None)
    if started is not None:
        TASK_RUNTIME.labels(task_name).observe(time.perf_counter() - started)


def task_outcome(task_name: str, outcome: str) -> None:
    TASKS.labels(task_name, outcome).inc()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def wipe_multiprocess_dir() -> None:
    """Empty the multiprocess directory: files of a previous run would be summed into this one's."""
    path = multiprocess_dir()
    if not path:
        return
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            os.unlink(os.path.join(path, name))


def mark_process_dead(pid: int) -> None:
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def process_registry() -> CollectorRegistry:
    """The counters of this service's processes: summed from the files in multiprocess mode."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    from prometheus_client import REGISTRY

    return REGISTRY


def start_worker_server(*, port: int, address: str) -> None:
    """Serve this worker's pool counters on `port` (the worker's main process; children write files)."""
    from prometheus_client import start_http_server

    try:
        start_http_server(port, addr=address, registry=process_registry())
    except OSError as exc:  # the port is taken: say so in one line (Celery would log a traceback)
        logger.error("worker metrics not served on %s:%s: %s", address, port, exc)
        return
    logger.info("worker metrics on %s:%s/metrics", address, port)


class ScrapeCollector:
    """Figures read when Prometheus scrapes: broker queues, the outbox, deliveries and emails by status.

    Each source is read with a short timeout; a source that fails is left out of this scrape (and logged)
    rather than failing the whole scrape, and `lms_scrape_errors` says which."""

    def collect(self):
        errors = GaugeMetricFamily(
            "lms_scrape_errors", "1 when a source could not be read this scrape.", labels=["source"]
        )
        for source, read in (("broker", _queue_metrics), ("database", _database_metrics)):
            try:
                yield from read()
                errors.add_metric([source], 0)
            except Exception as exc:  # a scrape reports what it can
                logger.warning("metrics: reading the %s failed: %s", source, exc)
                errors.add_metric([source], 1)
        yield errors


def _queue_metrics():
    from django.conf import settings

    depth = GaugeMetricFamily("lms_queue_depth", "Messages waiting in a broker queue.", labels=["queue"])
    age = GaugeMetricFamily(
        "lms_queue_oldest_message_age_seconds",
        "Age of the oldest waiting message in a queue (0 when empty).",
        labels=["queue"],
    )
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        return  # only the Redis transport can be peeked cheaply (docs/metrics.md)
    import redis

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=1, socket_connect_timeout=1)
    now = time.time()
    with client.pipeline(transaction=False) as pipe:
        for name in settings.CELERY_TASK_QUEUES_NAMES:
            pipe.llen(name)
            pipe.lindex(name, -1)  # kombu pushes on the left and pops on the right: -1 is the oldest
        answers = pipe.execute()
    for i, name in enumerate(settings.CELERY_TASK_QUEUES_NAMES):
        length, oldest = answers[2 * i], answers[2 * i + 1]
        depth.add_metric([name], length)
        age.add_metric([name], max(0.0, now - _published_at(oldest, now)) if oldest else 0.0)
    client.close()
    yield depth
    yield age


def _published_at(raw: bytes, default: float) -> float:
    from jobs.worker import SENT_AT_HEADER

    try:
        return float(json.loads(raw)["headers"][SENT_AT_HEADER])
    except (ValueError, KeyError, TypeError):
        return default  # a message published without our header (another client): age unknown


# Gauges of rows by status that apps ask for (the deliveries and emails kept, by outcome): name -> (doc, model).
_STATUS_GAUGES: dict[str, tuple[str, str]] = {}


def status_gauge(name: str, doc: str, model_label: str) -> None:
    """Export `name{status=...}`: how many rows of the model (with a `Status` choices class) have each status."""
    _STATUS_GAUGES[name] = (doc, model_label)


def _database_metrics():
    from django.apps import apps
    from django.db.models import Count

    from jobs.models import Job
    from jobs.selectors import outbox_unsettled

    outbox = GaugeMetricFamily(
        "lms_outbox_jobs",
        "Outbox jobs not on the broker that should be by now (a failed publish, or overdue for the relay), "
        "by state (pending, dead).",
        labels=["state"],
    )
    states = dict(outbox_unsettled().values_list("publish_state").annotate(n=Count("id")))
    for state in (Job.Publish.PENDING, Job.Publish.DEAD):
        outbox.add_metric([state.value], states.get(state.value, 0))
    yield outbox
    for name, (doc, model_label) in _STATUS_GAUGES.items():
        model = apps.get_model(model_label)
        family = GaugeMetricFamily(name, doc, labels=["status"])
        counts = dict(model.objects.values_list("status").annotate(n=Count("id")).order_by())
        for status in model.Status:
            family.add_metric([status.value], counts.get(status.value, 0))
        yield family
    yield _heartbeat_ages()


def _heartbeat_ages() -> GaugeMetricFamily:
    from jobs.health import heartbeats_with_age

    family = GaugeMetricFamily(
        "lms_heartbeat_age_seconds",
        "Seconds since each worker, beat and relay process last said it is alive (jobs.heartbeats).",
        labels=["kind", "name", "role"],
    )
    for beat in heartbeats_with_age():
        family.add_metric([beat["kind"], beat["name"], beat["role"] or ""], beat["age_seconds"])
    return family


def scrape() -> bytes:
    """The `/metrics` body: this service's process counters and the scrape-time figures."""
    scraped = CollectorRegistry()
    scraped.register(ScrapeCollector())
    return generate_latest(process_registry()) + generate_latest(scraped)


def allowed(*, remote_addr: str, authorization: str, token: str, allowed_ips: list[str]) -> bool:
    """A scraper is let in by the bearer token or by its address; with neither configured, nobody is."""
    if token:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return True
    if allowed_ips and remote_addr:
        try:
            address = ipaddress.ip_address(remote_addr)
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(net, strict=False) for net in allowed_ips)
    return False


class RequestMetricsMiddleware:
    """Count every answered request by its view's URL name and status (first in the chain: sees all)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match else "<unresolved>"  # the URL name, else the view's dotted path
        if view != "metrics":
            HTTP_REQUESTS.labels(view, request.method, str(response.status_code)).inc()
            HTTP_DURATION.labels(view).observe(time.perf_counter() - started)
        return response
