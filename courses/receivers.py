"""Turn model-level lesson edits (the admin writes lessons directly) into the courses domain signal."""

from django.db.models.signals import post_delete, post_save

from courses.models import Lesson
from courses.signals import course_lessons_changed


def _lesson_saved(sender, instance: Lesson, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    was_published = getattr(instance, "_loaded_is_published", None)
    if created or was_published != instance.is_published:
        course_lessons_changed.send(sender=Lesson, course_id=instance.course_id)
    instance._loaded_is_published = instance.is_published


def _lesson_deleted(sender, instance: Lesson, **kwargs) -> None:
    course_lessons_changed.send(sender=Lesson, course_id=instance.course_id)


def connect() -> None:
    post_save.connect(_lesson_saved, sender=Lesson, dispatch_uid="courses.lesson_saved")
    post_delete.connect(_lesson_deleted, sender=Lesson, dispatch_uid="courses.lesson_deleted")
