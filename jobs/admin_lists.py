"""What the jobs and task results change lists filter and search by, without reading the whole table.

Django's field filters list their choices with `SELECT DISTINCT` over every row, and `search_fields` turn
into `UPPER(column) LIKE '%term%'` over every row: on millions of jobs both are seconds per page load.
Here the choices come from the code (registered tasks, configured queues), and a search is one of the
lookups an index answers: a task id, an object ("enrollment 42", "enrollments.enrollment:42", "#42"), a
task name, or who triggered the job (docs/operations.md).
"""

import re
import uuid

from django.conf import settings
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

OBJECT_TERM = re.compile(r"^(?:(?P<label>[\w.]+)\s*[ :#]\s*|#)(?P<pk>\d+)$")


def registered_task_names() -> list[str]:
    from celery import current_app as app

    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


class CodeChoicesFilter(admin.SimpleListFilter):
    """A list filter on one column whose choices come from the code, not from the table's rows."""

    def choices_from_code(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def lookups(self, request, model_admin):
        return self.choices_from_code()

    def queryset(self, request, queryset):
        return queryset.filter(**{self.parameter_name: self.value()}) if self.value() else queryset


class TaskNameFilter(CodeChoicesFilter):
    title, parameter_name = "task name", "task_name"

    def choices_from_code(self):
        return [(name, name) for name in registered_task_names()]


class QueueFilter(CodeChoicesFilter):
    title, parameter_name = "queue", "queue"

    def choices_from_code(self):
        return [(name, name) for name in settings.CELERY_TASK_QUEUES_NAMES]


class ResultStatusFilter(CodeChoicesFilter):
    title, parameter_name = "status", "status"

    def choices_from_code(self):
        from celery import states

        return [(state, state.lower()) for state in sorted(states.ALL_STATES)]


def _is_task_id(term: str) -> bool:
    try:
        uuid.UUID(term)
    except ValueError:
        return False
    return True


def _content_types(label: str | None) -> list[int]:
    """The content types a label names: "enrollment", "enrollments.enrollment", or every one (None)."""
    types = ContentType.objects.all()
    if label:
        app_label, _, model = label.lower().rpartition(".")
        types = types.filter(model=model, **({"app_label": app_label} if app_label else {}))
    return list(types.values_list("pk", flat=True))


def job_search(queryset: QuerySet, term: str) -> QuerySet:
    """Jobs matching `term` by an indexed lookup: task id, the object they are about, task name, trigger."""
    term = term.strip()
    if not term:
        return queryset
    if _is_task_id(term):
        return queryset.filter(task_id=term)
    if match := OBJECT_TERM.match(term):
        return queryset.filter(content_type__in=_content_types(match["label"]), object_id=int(match["pk"]))
    return queryset.filter(Q(task_name=term) | Q(triggered_by=term))


def result_search(queryset: QuerySet, term: str) -> QuerySet:
    """Task results matching `term` exactly: task id, task name or worker."""
    term = term.strip()
    if not term:
        return queryset
    if _is_task_id(term):
        return queryset.filter(task_id=term)
    return queryset.filter(Q(task_name=term) | Q(worker=term))
