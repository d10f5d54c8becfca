from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = "Imports"

    def ready(self) -> None:
        from jobs.about import about_kwarg
        from jobs.operations import operation_kind

        about_kwarg("import_id", "imports.ImportJob")
        operation_kind(
            "import",
            permission="imports.view_importjob",
            cancel_permission="imports.control_importjob",
            label="Import",
            on_cancel=_cancel,
        )


def _cancel(operation) -> bool:
    from imports.models import ImportJob
    from imports.services import import_cancel

    job = ImportJob.objects.filter(operation=operation).first()
    return job is not None and import_cancel(import_job=job)
