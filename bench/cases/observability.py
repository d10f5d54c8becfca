"""P13: P3's progress-sync drain with metrics and tracing off and on (docs/metrics.md: metrics cost little).

The same worker command runs three ways: plain; with metrics (prometheus-client's multiprocess files, the
worker's /metrics server started); with metrics and tracing (every instrumentation on, spans written by
the synchronous jsonfile exporter, an upper bound of what an OTLP batch exporter costs). One worker runs at
a time (they would share the `default` queue), restarted for each drain, the modes alternating for
several rounds; the ratios are of the median drains."""

import shutil
import statistics

from bench import environment
from bench.cases.throughput import project_sync_drain
from bench.procs import Worker, free_port
from bench.report import Row
from bench.sizes import Sizes
from bench.stats import ratio


def _modes() -> dict[str, dict[str, str]]:
    metrics_dir = environment.VAR / "metrics-worker"
    spans = environment.VAR / "spans.jsonl"
    metrics = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "METRICS_WORKER_ADDRESS": "127.0.0.1"}
    return {
        "off": {},
        "metrics": metrics,
        "metrics+tracing": {**metrics, "OTEL_TRACES_EXPORTER": "jsonfile", "LMS_OTEL_SPANS_FILE": str(spans)},
    }


def _drain(mode: str, extra: dict[str, str], n: int, tag: str) -> float:
    environment.purge_queues()
    env = dict(extra)
    if "PROMETHEUS_MULTIPROC_DIR" in env:
        env["METRICS_WORKER_PORT"] = str(free_port())
    worker = Worker(f"p9-{mode.replace('+', '-')}", queues="default", concurrency=2, env=environment.child_env(**env))
    worker.start()
    try:
        return project_sync_drain(worker, n, tag)
    finally:
        worker.stop()


def p13_observability(sizes: Sizes) -> Row:
    n = sizes.p3_tasks
    runs: dict[str, list[float]] = {mode: [] for mode in _modes()}
    for round_ in range(sizes.p3_rounds):
        for mode, extra in _modes().items():
            runs[mode].append(_drain(mode, extra, n, f"p9-{round_}-{mode}"))
    shutil.rmtree(environment.VAR / "metrics-worker", ignore_errors=True)
    (environment.VAR / "spans.jsonl").unlink(missing_ok=True)
    rates = {mode: n / statistics.median(seconds) for mode, seconds in runs.items()}
    metrics_ratio = ratio(rates["metrics"], rates["off"])
    tracing_ratio = ratio(rates["metrics+tracing"], rates["off"])
    return Row(
        id="P13",
        what="P3's progress syncs/s with metrics on vs off (and with tracing on too)",
        measured=f"{metrics_ratio:.2f}x",
        target=">= 0.95x",
        met=metrics_ratio >= 0.95,
        absolute=(
            f"off: {rates['off']:.0f}/s; metrics: {rates['metrics']:.0f}/s; metrics and tracing (jsonfile "
            f"exporter): {rates['metrics+tracing']:.0f}/s = {tracing_ratio:.2f}x (median of {sizes.p3_rounds} "
            f"drains of {n} each)"
        ),
        raw={"n": n, "seconds": runs, "metrics_ratio": metrics_ratio, "tracing_ratio": tracing_ratio},
    )
