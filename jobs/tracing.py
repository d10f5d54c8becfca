"""OpenTelemetry tracing: off unless the standard OTEL_* variables ask for it (docs/metrics.md).

When off, nothing from opentelemetry is imported and the helpers below return at once. When on, Django,
psycopg, Celery, Redis and requests are instrumented, and a job carries its trace: `enqueue` stores the
W3C traceparent of the code that queued it on the Job row, and `send` publishes under that context, so the
Celery instrumentation puts it in the message headers and the worker's task span joins the same trace,
whether the message is sent after the request's commit, republished by the outbox relay or queued again
from the admin (a retry copies the original's context).
"""

import json
import logging
import os
import threading
from contextlib import contextmanager

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_configured = False


def requested() -> bool:
    """True when the environment asks for traces (an exporter or an OTLP endpoint is named)."""
    exporter = (os.environ.get("OTEL_TRACES_EXPORTER") or "").strip().lower()
    if exporter == "none" or os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return bool(
        exporter
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def enabled() -> bool:
    return _configured


def setup(*, default_service: str = "lms") -> bool:
    """Install the tracer provider and the instrumentations once per process; False when not requested."""
    global _configured
    if not requested():
        return False
    with _lock:
        if _configured:
            return True
        _install(default_service)
        _configured = True
    return True


def _install(default_service: str) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider

    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: default_service}
    provider = TracerProvider(resource=Resource.create(attributes))
    for processor in _processors():
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)

    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor

    DjangoInstrumentor().instrument()
    PsycopgInstrumentor().instrument(enable_commenter=False)
    CeleryInstrumentor().instrument()
    RedisInstrumentor().instrument()
    RequestsInstrumentor().instrument()
    URLLib3Instrumentor().instrument()  # webhook deliveries (urllib3 directly); requests' calls nest in it
    logger.info("tracing on: %s", os.environ.get("OTEL_TRACES_EXPORTER") or "otlp")


def _processors():
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

    names = [n.strip().lower() for n in (os.environ.get("OTEL_TRACES_EXPORTER") or "otlp").split(",") if n.strip()]
    for name in names:
        if name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            yield BatchSpanProcessor(OTLPSpanExporter())
        elif name == "console":
            yield SimpleSpanProcessor(ConsoleSpanExporter())
        elif name == "jsonfile":
            yield SimpleSpanProcessor(JsonFileSpanExporter(os.environ["LMS_OTEL_SPANS_FILE"]))
        else:
            logger.warning("OTEL_TRACES_EXPORTER=%s is not one of otlp, console, jsonfile: ignored", name)


class JsonFileSpanExporter:
    """Appends one JSON line per finished span to a file: for tests and local debugging, where every
    process (web, pool children) can write the same file (one write per line, opened for appending)."""

    def __init__(self, path: str):
        self.path = path

    def export(self, spans):
        from opentelemetry.sdk.trace.export import SpanExportResult

        lines = "".join(json.dumps(_span_record(span)) + "\n" for span in spans)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, lines.encode())
        finally:
            os.close(fd)
        return SpanExportResult.SUCCESS

    def shutdown(self):
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _span_record(span) -> dict:
    context = span.get_span_context()
    return {
        "name": span.name,
        "trace_id": format(context.trace_id, "032x"),
        "span_id": format(context.span_id, "016x"),
        "parent_id": format(span.parent.span_id, "016x") if span.parent else None,
        "kind": span.kind.name,
        "service": span.resource.attributes.get("service.name"),
        "pid": os.getpid(),
        "attributes": {key: str(value) for key, value in (span.attributes or {}).items()},
    }


def current_traceparent() -> str | None:
    """The W3C traceparent of the active span, for storing with a job; None when tracing is off."""
    if not _configured:
        return None
    from opentelemetry.propagate import inject

    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get("traceparent")


@contextmanager
def attached(traceparent: str | None):
    """Run the block in the trace a job was queued from (no-op when off or the job carries none)."""
    if not _configured or not traceparent:
        yield
        return
    from opentelemetry import context
    from opentelemetry.propagate import extract

    token = context.attach(extract({"traceparent": traceparent}))
    try:
        yield
    finally:
        context.detach(token)
