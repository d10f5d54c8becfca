"""Domain signals of the enrollments app. They are sent inside the service's transaction; receivers
only enqueue (after commit, through lms.tasks.enqueue), so a rollback sends nothing onward."""

from django.dispatch import Signal

enrollment_created = Signal()  # kwargs: enrollment_id
lesson_completed = Signal()  # kwargs: enrollment_id, lesson_id
enrollment_completed = Signal()  # kwargs: enrollment_id
enrollment_reopened = Signal()  # kwargs: enrollment_id
# Sent once per batch of an import's applied rows, by the import's notify run (not inside the import's
# chunks). kwargs: import_id, enrollment_ids (new enrollments), welcome_user_ids (new users to welcome).
enrollments_imported = Signal()
