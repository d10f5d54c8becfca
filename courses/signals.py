"""Domain signals of the courses app."""

from django.dispatch import Signal

# The set of published lessons of a course changed (a lesson added, deleted, published or unpublished),
# so every enrollment's progress may have moved. kwargs: course_id.
course_lessons_changed = Signal()
