"""The staff page of one operation: the same progress bar from the same source as the API (the page's
script polls GET /api/operations/{id}/), a cancel button, and the result's link once there is one."""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from jobs import selectors
from jobs.operations import kind_of, operation_cancel


def _operation(request, pk: int):
    rows = selectors.operation_list_readable(user=request.user)
    if rows is None:
        raise PermissionDenied
    operation = rows.filter(pk=pk).first()
    if operation is None:
        raise Http404
    return operation


@staff_member_required
@require_safe
def operation_detail(request, pk: int):
    operation = _operation(request, pk)
    kind = kind_of(operation)
    may_cancel = kind is not None and request.user.has_perm(kind.cancel_permission)
    context = {"operation": operation, "kind": kind, "may_cancel": may_cancel}
    return render(request, "jobs/operation_detail.html", context)


@staff_member_required
@require_POST
def operation_cancel_page(request, pk: int):
    operation = _operation(request, pk)
    kind = kind_of(operation)
    if kind is None or not request.user.has_perm(kind.cancel_permission):
        raise PermissionDenied
    if operation_cancel(operation=operation):
        messages.info(request, "Cancelled.")
    else:
        messages.info(request, "It had already finished.")
    return redirect("operation_detail", pk=pk)
