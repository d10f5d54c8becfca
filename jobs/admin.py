"""Operations in the admin: every job with its state, retry, dead letters, and the last day's summary."""

from django.contrib import admin, messages
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django_celery_beat.admin import PeriodicTaskAdmin as BasePeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask
from django_celery_results.admin import TaskResultAdmin as BaseTaskResultAdmin
from django_celery_results.models import TaskResult

from core.admin_paging import LargeTableAdmin
from jobs import selectors
from jobs.admin_lists import QueueFilter, ResultStatusFilter, TaskNameFilter, job_search, result_search
from jobs.health import health_checks, heartbeats_with_age
from jobs.models import HealthIncident, Job
from jobs.services import JobNotRetryable, job_requeue_dead, job_retry, jobs_publish_lost_again


def task_result_link(task_id: str, label: str | None = None):
    url = reverse("admin:django_celery_results_taskresult_changelist") + f"?task_id={task_id}"
    return format_html('<a href="{}">{}</a>', url, label or task_id[:8])


def _state_label(job) -> str:
    # A pending job with no failed attempt was sent by its request; the relay confirms it later (jobs.relay).
    if job.publish_state == Job.Publish.DEAD or (job.publish_state == Job.Publish.PENDING and job.publish_attempts):
        return f"not published ({job.publish_state})"
    return selectors.STATE_LABELS.get(job.state, job.state.lower())


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [(key, label) for key, label in selectors.STATE_LABELS.items()]

    def queryset(self, request, queryset):
        # EXISTS, not the `state` annotation: PostgreSQL joins it (semi- or anti-join) instead of running
        # the annotation's subquery once per job, millions of times to count a filtered list (P11).
        if not self.value():
            return queryset
        results = TaskResult.objects.filter(task_id=OuterRef("task_id"))
        if self.value() == "QUEUED":
            return queryset.filter(~Exists(results))
        return queryset.filter(Exists(results.filter(status=self.value())))


class ReconciledFilter(admin.SimpleListFilter):
    """Jobs the reconciliation sweep published again because the broker had lost their message."""

    title = "published again (lost by the broker)"
    parameter_name = "reconciled"

    def lookups(self, request, model_admin):
        return [("yes", "yes"), ("no", "no")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(reconciled_count__gt=0)
        if self.value() == "no":
            return queryset.filter(reconciled_count=0)
        return queryset


@admin.register(Job)
class JobAdmin(LargeTableAdmin):
    list_display = ["task_name", "state_display", "queue", "about_link", "triggered_by", "created_at", "result_link"]
    list_filter = [StateFilter, ReconciledFilter, TaskNameFilter, QueueFilter, "publish_state", "created_at"]
    # Searched by indexed lookups only (jobs.admin_lists.job_search); the field names are for the admin's
    # search box to show.
    search_fields = ["task_id", "task_name", "triggered_by"]
    search_help_text = 'A task id, an object ("enrollment 42", "#42"), a task name or a trigger ("user:7"), exactly.'
    readonly_fields = [f.name for f in Job._meta.fields] + ["state_display", "result_link", "about_link"]
    actions = ["retry_jobs", "requeue_dead_letters", "publish_lost_again"]

    change_form_template = "admin/jobs/job/change_form.html"

    def get_queryset(self, request):
        return selectors.job_list_with_state()

    def get_search_results(self, request, queryset, search_term):
        return job_search(queryset, search_term), False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # A record of what ran: the page is read-only (no Save buttons); retrying is its own button.
        return False

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("jobs.retry_job")

    def changelist_view(self, request, extra_context=None):
        # Seven columns beside the filters do not fit 1280 px next to the app sidebar too: this list,
        # the one staff read most, gives the sidebar's width to the table (the breadcrumbs lead back).
        return super().changelist_view(request, {"is_nav_sidebar_enabled": False, **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        can_retry = job is not None and job.state == "FAILURE" and self.has_retry_permission(request)
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "can_retry": can_retry})

    def retry_view(self, request, object_id):
        """The failed job's own Retry button: the list action's permission, service and log entry."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_retry_permission(request):
            raise PermissionDenied
        job = self.get_object(request, object_id)
        if job is None:
            raise Http404
        if job.state != "FAILURE":
            self.message_user(request, "Only a failed job can be retried.", messages.WARNING)
            return redirect("admin:jobs_job_change", job.pk)
        try:
            new = job_retry(job=job, by=f"user:{request.user.pk}")
        except JobNotRetryable as exc:
            self.message_user(request, str(exc), messages.WARNING)
            return redirect("admin:jobs_job_change", job.pk)
        self.log_change(request, job, f"Retried as job {new.task_id}")
        self.message_user(request, f"Queued a retry: job {new.task_id}.")
        return redirect("admin:jobs_job_change", new.pk)

    @admin.display(description="State", ordering="state")
    def state_display(self, obj) -> str:
        return _state_label(obj)

    @admin.display(description="Result")
    def result_link(self, obj):
        return task_result_link(obj.task_id)

    @admin.display(description="About")
    def about_link(self, obj):
        if not obj.content_type_id:
            return "-"
        url = reverse(f"admin:{obj.content_type.app_label}_{obj.content_type.model}_change", args=[obj.object_id])
        return format_html('<a href="{}">{} #{}</a>', url, obj.content_type.model, obj.object_id)

    @admin.action(description="Retry selected failed jobs", permissions=["retry"])
    def retry_jobs(self, request, queryset):
        retried = 0
        for job in queryset.filter(state="FAILURE"):
            try:
                new = job_retry(job=job, by=f"user:{request.user.pk}")
            except JobNotRetryable as exc:
                self.message_user(request, str(exc), messages.WARNING)
                continue
            self.log_change(request, job, f"Retried as job {new.task_id}")
            retried += 1
        skipped = queryset.count() - retried
        note = f" ({skipped} not failed or not retryable, left alone)" if skipped else ""
        self.message_user(request, f"Queued {retried} retry job(s){note}.")

    @admin.action(description="Requeue selected dead letters for publishing", permissions=["retry"])
    def requeue_dead_letters(self, request, queryset):
        count = job_requeue_dead(jobs=list(queryset))
        for job in queryset:
            self.log_change(request, job, "Requeued from the dead letters")
        self.message_user(request, f"Requeued {count} dead-letter job(s).")

    @admin.action(description="Publish selected lost jobs again (never ran)", permissions=["retry"])
    def publish_lost_again(self, request, queryset):
        jobs = list(queryset)
        count = jobs_publish_lost_again(jobs=jobs)
        for job in jobs:
            self.log_change(request, job, "Published again (lost by the broker)")
        self.message_user(
            request, f"Published {count} job(s) again ({len(jobs) - count} had run or were not published)."
        )

    def get_urls(self):
        return [
            path("operations/", self.admin_site.admin_view(self.operations_view), name="jobs_operations"),
            path("<path:object_id>/retry/", self.admin_site.admin_view(self.retry_view), name="jobs_job_retry"),
            *super().get_urls(),
        ]

    def operations_view(self, request):
        """Last 24 hours by task and state, queue lengths on the broker, and the outbox."""
        if not request.user.has_perm("jobs.view_operations"):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Background jobs: last 24 hours",
            "summary": selectors.operations_summary(),
            "checks": health_checks(),
            "heartbeats": heartbeats_with_age(),
            "incidents": HealthIncident.objects.all()[:10],
            "states": list(selectors.STATE_LABELS.values()),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/jobs/operations.html", context)


class JobInline(GenericTabularInline):
    """The jobs about one object, newest first, linked to their results."""

    model = Job
    fields = ["task_name", "state_display", "triggered_by", "created_at", "result_link"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "background jobs"

    def get_queryset(self, request):
        return selectors.job_list_with_state().order_by("-created_at")

    @admin.display(description="State")
    def state_display(self, obj) -> str:
        return _state_label(obj)

    @admin.display(description="Result")
    def result_link(self, obj):
        return task_result_link(obj.task_id)


admin.site.unregister(TaskResult)


@admin.register(TaskResult)
class TaskResultAdmin(LargeTableAdmin, BaseTaskResultAdmin):
    """django-celery-results' admin, with the worker, runtime and the job's queue in the list; counted,
    filtered and searched within bounds (core.admin_paging, jobs.admin_lists)."""

    list_display = ["task_id", "task_name", "status", "worker", "queue", "runtime", "date_created", "date_done"]
    list_filter = [ResultStatusFilter, TaskNameFilter, "date_created", "date_done"]
    date_hierarchy = None  # the base admin's drill-down reads every year and month of the table
    search_fields = ["task_id", "task_name", "worker"]
    search_help_text = "A task id, a task name or a worker, exactly."

    def get_search_results(self, request, queryset, search_term):
        return result_search(queryset, search_term), False

    def get_queryset(self, request):
        from django.db.models import Subquery

        queue = Job.objects.filter(task_id=OuterRef("task_id")).values("queue")[:1]
        return super().get_queryset(request).annotate(job_queue=Subquery(queue))

    @admin.display(description="Queue", ordering="job_queue")
    def queue(self, obj) -> str:
        return obj.job_queue or "-"

    @admin.display(description="Runtime")
    def runtime(self, obj) -> str:
        began = obj.date_started or obj.date_created
        if not (began and obj.date_done):
            return "-"
        return f"{(obj.date_done - began).total_seconds():.3f}s"


def _needs_change_permission(name: str):
    """django-celery-beat's action `name`, declaring that it needs the change permission (it declares none)."""
    base = getattr(BasePeriodicTaskAdmin, name)

    def action(self, request, queryset):
        return base(self, request, queryset)

    action.__name__ = name
    return admin.action(description=base.short_description, permissions=["change"])(action)


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(BasePeriodicTaskAdmin):
    """django-celery-beat's admin; enabling, disabling or running a schedule needs change_periodictask."""

    enable_tasks = _needs_change_permission("enable_tasks")
    disable_tasks = _needs_change_permission("disable_tasks")
    toggle_tasks = _needs_change_permission("toggle_tasks")
    run_tasks = _needs_change_permission("run_tasks")
