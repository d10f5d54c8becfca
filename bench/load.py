"""A closed-loop HTTP load generator: N asyncio clients on one httpx.AsyncClient, each its own learner."""

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx


@dataclass
class ClientPlan:
    token: str
    paths: list[str]  # one POST each, in order


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)  # measured requests only (after warm-up)
    statuses: Counter = field(default_factory=Counter)
    wall: float = 0.0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0


async def _run(base_url: str, plans: list[ClientPlan], warmup: int) -> LoadResult:
    result = LoadResult()
    limits = httpx.Limits(max_connections=len(plans) + 2, max_keepalive_connections=len(plans) + 2)
    started: list[float] = []
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30.0) as client:

        async def one_client(plan: ClientPlan) -> None:
            headers = {"Authorization": f"Token {plan.token}", "Accept": "application/json"}
            for i, path in enumerate(plan.paths):
                if i == warmup:
                    started.append(time.perf_counter())
                t0 = time.perf_counter()
                response = await client.post(path, headers=headers)
                elapsed = time.perf_counter() - t0
                if i >= warmup:
                    result.latencies.append(elapsed)
                    result.statuses[response.status_code] += 1

        await asyncio.gather(*(one_client(plan) for plan in plans))
    result.wall = time.perf_counter() - min(started) if started else 0.0
    return result


def run_closed_loop(base_url: str, plans: list[ClientPlan], *, warmup: int) -> LoadResult:
    """Every client sends its requests back to back; the first `warmup` of each are not measured."""
    return asyncio.run(_run(base_url, plans, warmup))
