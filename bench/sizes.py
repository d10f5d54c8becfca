"""How big each benchmark runs: `full` is what docs/performance.md reports, `quick` only keeps the code
working (CI) and is never judged."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    name: str
    p1_clients: tuple[int, ...]
    p1_requests: int  # measured requests per (configuration, client count), after warm-up
    p1_warmup: int  # per client and round
    p2_samples: int
    p2_warmup: int
    p3_tasks: int
    p3_rounds: int  # alternating drains per side; the ratio is of the medians
    p4_enrollments: int
    p4_loop_sample: int
    p4_rounds: int
    p5_renders: int
    p5_warmup: int
    p5_certificates: int
    p6_renders: int
    p6_syncs: int
    p6_sync_interval: float  # seconds between two syncs sent while the renders are queued
    p7_many: int
    p8_rows: int
    p9_enrollments: int
    p11_small: int  # jobs at the first measurement
    p11_jobs: int  # jobs (and results) at the second
    p12_relay_rows: int
    p12_prune_rows: int  # expired results, and as many expired jobs
    p12_lessons: int  # per learner: enough for the completions while the prune runs


FULL = Sizes(
    name="full",
    p1_clients=(4, 16),
    p1_requests=2000,
    p1_warmup=25,
    p2_samples=400,
    p2_warmup=30,
    p3_tasks=2000,
    p3_rounds=3,
    p4_enrollments=100_000,
    p4_loop_sample=500,
    p4_rounds=3,
    p5_renders=60,
    p5_warmup=5,
    p5_certificates=1000,
    p6_renders=200,
    p6_syncs=100,
    p6_sync_interval=0.02,
    p7_many=50,
    p8_rows=100_000,
    p9_enrollments=100_000,
    p11_small=5_000,
    p11_jobs=5_000_000,
    p12_relay_rows=100_000,
    p12_prune_rows=1_000_000,
    p12_lessons=20_000,
)

QUICK = Sizes(
    name="quick",
    p1_clients=(4, 16),
    p1_requests=64,
    p1_warmup=2,
    p2_samples=15,
    p2_warmup=3,
    p3_tasks=60,
    p3_rounds=1,
    p4_enrollments=2_000,
    p4_loop_sample=50,
    p4_rounds=1,
    p5_renders=8,
    p5_warmup=2,
    p5_certificates=20,
    p6_renders=16,
    p6_syncs=10,
    p6_sync_interval=0.02,
    p7_many=50,
    p8_rows=5_000,
    p9_enrollments=2_000,
    p11_small=500,
    p11_jobs=10_000,
    p12_relay_rows=2_000,
    p12_prune_rows=20_000,
    p12_lessons=2_000,
)
