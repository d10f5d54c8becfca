"""A burst of learners finishing a course, for the fault tests that break things while it runs, and the end
state every learner must reach: 100 %, exactly one certificate, one certificate email, and one webhook
delivery per endpoint, with nobody retrying anything by hand."""

import time

from django_celery_results.models import TaskResult

from certificates.models import Certificate
from enrollments import services as enrollment_services
from enrollments.models import Enrollment
from jobs.models import Job
from jobs.relay import outbox_relay
from notifications.models import Notification, WebhookDelivery, WebhookEndpoint
from notifications.services.webhooks import webhook_due_claim
from tests.conftest import purge_queues
from tests.courses.factories import CourseFactory, LessonFactory
from tests.enrollments.factories import EnrollmentFactory


class Burst:
    def __init__(self, *, learners: int, lessons: int, webhook_url: str):
        course = CourseFactory()
        self.lessons = [LessonFactory(course=course, position=i) for i in range(lessons)]
        self.enrollments = [EnrollmentFactory(course=course) for _ in range(learners)]
        self.endpoint = WebhookEndpoint.objects.create(url=webhook_url, event_types=["certificate.issued"])
        # Creating the lessons queued a course-wide recompute (in a few seconds) that would write every
        # learner's progress and complete them: it would repair a lost sync. It, and everything else the
        # set-up queued, is forgotten before any worker runs, so only the burst's own jobs can do the work.
        purge_queues()
        Job.objects.all().delete()

    @property
    def ids(self) -> list[int]:
        return [e.pk for e in self.enrollments]

    def complete_all(self, *, between=None) -> None:
        """Every learner completes every lesson, lesson by lesson; `between()` runs after each lesson."""
        for lesson in self.lessons:
            for enrollment in self.enrollments:
                enrollment_services.lesson_complete(learner=enrollment.learner, lesson_id=lesson.pk)
            if between:
                between()

    def done(self, *, sweep=None) -> bool:
        """Whether every learner reached the end state; runs the periodic sweeps first, as beat would."""
        outbox_relay()  # beat's outbox relay: a worker killed between a commit and its publish
        webhook_due_claim()  # beat's "retry due webhooks"
        if sweep:
            sweep()
        n, ids = len(self.enrollments), self.ids
        return (
            Enrollment.objects.filter(pk__in=ids, progress_percent=100, status="completed").count() == n
            and Certificate.objects.filter(enrollment_id__in=ids, status="issued").count() == n
            and Notification.objects.filter(kind="certificate_issued", status="sent").count() == n
            and WebhookDelivery.objects.filter(endpoint=self.endpoint, status="succeeded").count() == n
        )

    def __str__(self) -> str:
        """The state of the burst's work, for a failed wait's message."""
        from django.db.models import Count

        def tally(queryset, field="status") -> dict:
            return dict(queryset.values_list(field).annotate(n=Count("pk")).values_list(field, "n"))

        ids = self.ids
        no_result = Job.objects.exclude(task_id__in=TaskResult.objects.values("task_id"))
        return (
            f"progress {tally(Enrollment.objects.filter(pk__in=ids), 'progress_percent')}, "
            f"certificates {tally(Certificate.objects.filter(enrollment_id__in=ids))}, "
            f"emails {tally(Notification.objects.filter(kind='certificate_issued'))}, "
            f"deliveries {tally(WebhookDelivery.objects.filter(endpoint=self.endpoint))}, "
            f"results {tally(TaskResult.objects.all())}, "
            f"jobs without a result {list(no_result.values_list('task_name', 'publish_state', 'reconciled_count'))}"
        )

    def assert_each_effect_once(self, receiver) -> None:
        time.sleep(2)  # let a late duplicate surface before counting
        n, ids = len(self.enrollments), self.ids
        assert Certificate.objects.filter(enrollment_id__in=ids).count() == n
        assert Notification.objects.filter(kind="certificate_issued").count() == n
        assert WebhookDelivery.objects.filter(endpoint=self.endpoint).count() == n
        # A delivery may be POSTed again if it was cut off before its success was recorded: receivers
        # deduplicate by webhook-id, and every certificate's event arrived.
        event_ids = {r.headers.get("webhook-id") or r.headers.get("Webhook-Id") for r in receiver.requests}
        assert len(event_ids - {None}) == n
        assert not TaskResult.objects.filter(status="FAILURE").exists(), list(
            TaskResult.objects.filter(status="FAILURE").values_list("task_name", "result")
        )
