"""The operations tasks: relaying the outbox, sweeping stuck and lost jobs, pruning, health alerts.

Each periodic one is declared beside its task with `periodic` (jobs.schedules), as every app does.
"""

import socket

from celery import shared_task

from jobs.schedules import periodic


@shared_task(name="lms.ping", soft_time_limit=5, time_limit=10)
def ping_task(note: str = "") -> dict:
    """A no-op round trip for health checks and smoke tests: says which worker answered."""
    return {"pong": note, "worker": socket.gethostname()}


# The frequent housekeeping tasks keep no results: thousands of "relayed 0" rows a day would bury the
# results staff need. Their failures still reach the logs and Sentry.
@periodic("Relay unpublished jobs (outbox)", every_seconds=10)
@shared_task(name="lms.relay_outbox", soft_time_limit=50, time_limit=60, ignore_result=True)
def outbox_relay_task() -> int:
    """Beat's safety net beside the relay process: publish jobs the after-commit publish missed."""
    from jobs.relay import outbox_relay

    return outbox_relay()


@periodic("Mark jobs stuck past their time limit failed", every_seconds=60)
@shared_task(name="lms.sweep_stuck_jobs", soft_time_limit=50, time_limit=60, ignore_result=True)
def jobs_sweep_stuck_task() -> int:
    from jobs.services import jobs_sweep_stuck

    return jobs_sweep_stuck()


@periodic("Publish again jobs the broker lost", every_seconds=60)
@shared_task(name="lms.reconcile_lost_jobs", soft_time_limit=50, time_limit=60, ignore_result=True)
def jobs_reconcile_lost_task() -> int:
    """Periodic: publish again the jobs whose message the broker lost (no result, in no queue)."""
    from jobs.services import jobs_reconcile_lost

    return jobs_reconcile_lost()


PRUNE_BUDGET = 100  # seconds of deleting per run, well inside the task's soft time limit (150 s)


@periodic("Prune old task results and jobs", crontab={"minute": "30", "hour": "3"})
@shared_task(name="lms.prune_results", soft_time_limit=150, time_limit=180)
def results_prune_task() -> dict:
    """Nightly: prune old results and jobs in batches for up to PRUNE_BUDGET seconds, then queue itself
    again while rows remain (a backlog of millions takes several runs, none of them holding locks long)."""
    from core.idempotency import idempotency_records_prune
    from jobs.enqueue import enqueue
    from jobs.heartbeats import heartbeats_prune
    from jobs.pruning import results_prune

    pruned = results_prune(budget_seconds=PRUNE_BUDGET)
    if pruned["more"]:
        enqueue(results_prune_task)
    pruned["idempotency_keys"] = idempotency_records_prune()
    pruned["heartbeats"] = heartbeats_prune()
    return pruned


@periodic("Run health checks and alert", every_seconds=60)
@shared_task(name="lms.health_alerts", soft_time_limit=40, time_limit=50, ignore_result=True)
def health_alerts_task() -> dict:
    """Periodic: run the health checks and alert staff when one turns bad or recovers (jobs.alerts)."""
    from jobs.alerts import health_alerts_run

    return health_alerts_run()
