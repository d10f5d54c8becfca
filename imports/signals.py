"""Domain signals of the imports app. Receivers only enqueue (after commit, through jobs.enqueue.enqueue)."""

from django.dispatch import Signal

# Sent once per batch of an import's applied rows, by the import's notify run (not inside the import's
# chunks). kwargs: import_id, enrollment_ids (new enrollments), welcome_user_ids (new users to welcome).
enrollments_imported = Signal()
