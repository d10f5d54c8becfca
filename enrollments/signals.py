"""Domain signals of the enrollments app. They are sent inside the service's transaction; receivers
only enqueue (after commit, through jobs.enqueue.enqueue), so a rollback sends nothing onward."""

from django.dispatch import Signal

enrollment_created = Signal()  # kwargs: enrollment_id
enrollment_completed = Signal()  # kwargs: enrollment_id
