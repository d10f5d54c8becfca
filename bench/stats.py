"""Percentiles and small formatting helpers (seconds in, milliseconds out)."""

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    n: int
    p50: float
    p95: float
    p99: float
    mean: float

    def ms(self) -> str:
        return f"p50 {fmt_ms(self.p50)}, p95 {fmt_ms(self.p95)}, p99 {fmt_ms(self.p99)} (n={self.n})"

    def as_dict(self) -> dict:
        return {"n": self.n, "p50": self.p50, "p95": self.p95, "p99": self.p99, "mean": self.mean}


def summarize(samples: list[float]) -> Summary:
    if not samples:
        raise ValueError("no samples")
    if len(samples) == 1:
        only = samples[0]
        return Summary(1, only, only, only, only)
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return Summary(len(samples), cuts[49], cuts[94], cuts[98], statistics.fmean(samples))


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1000
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    return f"{ms:.2f} ms"


def fmt_s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds < 100 else f"{seconds:.0f} s"


def ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")
