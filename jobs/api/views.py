"""One progress API for every long operation (docs/api.md, "Operations").

Who may see an operation is decided by its kind (each owner app names the permission): learners get 404
for every operation (their existence is private), staff holding none of the kinds' permissions get 403,
staff get 404 for an operation of a kind they may not see.
"""

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import Pagination
from jobs import selectors
from jobs.api.serializers import OperationSerializer
from jobs.models import Operation
from jobs.operations import kind_of, operation_cancel


def _readable(request):
    user = request.user
    if not user.is_staff:
        raise Http404
    rows = selectors.operation_list_readable(user=user)
    if rows is None:
        raise PermissionDenied("You may not see operations.")
    return rows


class OperationListView(generics.ListAPIView):
    """Operations the caller may see, newest first; `?state=` and `?kind=` filter."""

    serializer_class = OperationSerializer
    pagination_class = Pagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Operation.objects.none()
        rows = _readable(self.request)
        for field in ("state", "kind"):
            if value := self.request.query_params.get(field):
                rows = rows.filter(**{field: value})
        return rows


class OperationDetailView(generics.RetrieveAPIView):
    """Poll this until `state` is completed, failed or cancelled; `completion` is 0-100."""

    serializer_class = OperationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Operation.objects.none()
        return _readable(self.request)


class OperationCancelView(APIView):
    @extend_schema(
        request=None,
        responses={
            202: OpenApiResponse(OperationSerializer, description="Cancelled."),
            409: OpenApiResponse(OperationSerializer, description="Already finished."),
        },
    )
    def post(self, request, pk: int):
        operation = _readable(request).filter(pk=pk).first()
        if operation is None:
            raise Http404
        kind = kind_of(operation)
        if kind is None or not request.user.has_perm(kind.cancel_permission):
            raise PermissionDenied("You may see this operation but not cancel it.")
        cancelled = operation_cancel(operation=operation)
        data = OperationSerializer(operation, context={"request": request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED if cancelled else status.HTTP_409_CONFLICT)
