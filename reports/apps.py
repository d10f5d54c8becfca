from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from jobs.about import about_kwarg
        from jobs.operations import operation_kind

        about_kwarg("report_id", "reports.Report")
        operation_kind("report", permission="reports.view_report", label="Report")
