"""Staff pages of bulk imports: upload (the same form and service as the admin's add page), live progress,
cancel."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from core.permissions import staff_permission_required
from imports import selectors, services
from imports.forms import ImportUploadForm, ImportUploadLimit


def import_upload_form(request) -> tuple[ImportUploadForm, object | None]:
    """The bound upload form of a POST (after the size limit was installed); on success, the new job.

    Shared by the staff page and the admin's add page: one form, one service.
    """
    limit = getattr(request, "_import_upload_limit", None)
    form = ImportUploadForm(request.POST, request.FILES, limit=limit)
    if not form.is_valid():
        return form, None
    try:
        job = services.import_start(
            upload=form.cleaned_data["file"],
            uploaded_by=request.user,
            send_welcome=form.cleaned_data["send_welcome"],
        )
    except ValidationError as exc:
        for message in exc.message_dict.get("file", exc.messages):
            form.add_error("file", message)
        return form, None
    return form, job


def with_upload_limit(view):
    """Install the import size limit before the CSRF check (inside `view`) parses the request body."""

    @csrf_exempt
    def wrapped(request, *args, **kwargs):
        if request.method == "POST":
            request._import_upload_limit = ImportUploadLimit.install(request)
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@with_upload_limit
@csrf_protect
@staff_permission_required("imports.add_importjob")
@require_http_methods(["GET", "HEAD", "POST"])
def import_new(request):
    if request.method == "POST":
        form, job = import_upload_form(request)
        if job is not None:
            messages.success(request, f"“{job.original_name}” is uploaded; the import runs in the background.")
            return redirect("import_detail", pk=job.pk)
    else:
        form = ImportUploadForm()
    recent = selectors.import_list()[:10] if request.user.has_perm("imports.view_importjob") else []
    return render(request, "imports/new.html", {"form": form, "recent": recent})


@staff_permission_required("imports.view_importjob")
@require_safe
def import_detail(request, pk: int):
    job = get_object_or_404(selectors.import_list(), pk=pk)
    return render(
        request,
        "imports/detail.html",
        {
            "job": job,
            "progress": selectors.import_progress(import_job=job),
            "same_file": services.import_same_file_earlier(import_job=job),
        },
    )


@staff_permission_required("imports.control_importjob")
@require_POST
def import_cancel(request, pk: int):
    job = get_object_or_404(selectors.import_list(), pk=pk)
    if services.import_cancel(import_job=job):
        messages.info(request, "The import is cancelled; the rows it had already imported stay.")
    else:
        messages.info(request, "The import had already finished.")
    return redirect("import_detail", pk=job.pk)
