from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from jobs import selectors
from jobs.services import JobNotRetryable, job_retry


class Command(BaseCommand):
    help = "Queue again the background jobs whose last run failed, each recorded as a retry of the original."

    def add_arguments(self, parser):
        parser.add_argument("--task", help="Only jobs of this task name (e.g. certificates.issue_certificate).")
        parser.add_argument("--since-hours", type=float, default=24.0, help="Only jobs created this recently.")
        parser.add_argument("--limit", type=int, default=1000)
        parser.add_argument("--dry-run", action="store_true", help="List what would be retried.")

    def handle(self, *args, task, since_hours, limit, dry_run, **options):
        jobs = selectors.job_list_failed(task_name=task, since=timezone.now() - timedelta(hours=since_hours))[:limit]
        jobs = list(jobs)
        self.stdout.write(f"{len(jobs)} failed job(s) match")
        retried = 0
        for number, job in enumerate(jobs, start=1):
            if dry_run:
                self.stdout.write(f"  would retry {job.task_name} {job.kwargs} ({job.task_id})")
                continue
            try:
                job_retry(job=job, by="command:retry_failed_jobs")
                retried += 1
            except JobNotRetryable as exc:
                self.stderr.write(f"  skipped {job.task_id}: {exc}")
            if number % 100 == 0 or number == len(jobs):
                self.stdout.write(f"  {number}/{len(jobs)}")
        if not dry_run:
            self.stdout.write(self.style.SUCCESS(f"queued {retried} retry job(s)"))
