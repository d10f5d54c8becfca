from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import SyncPagination
from courses.models import Course
from enrollments import selectors, services
from enrollments.api.filters import EnrollmentFilter
from enrollments.api.serializers import EnrollmentSerializer, LessonCompleteSerializer
from enrollments.models import Enrollment
from jobs.api.serializers import OperationSerializer

_READ_ALL = "Learners get their own; holders of `{perm}` (staff, service accounts of integrations) get everyone's. "


@extend_schema_view(
    get=extend_schema(
        description=_READ_ALL.format(perm="enrollments.view_enrollment")
        + "With `updated_since` the list is an incremental sync: oldest write first by (updated_at, id), "
        'and `next` resumes after the page\'s last row (docs/api.md, "Integrations").'
    )
)
class EnrollmentListView(generics.ListAPIView):
    serializer_class = EnrollmentSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = EnrollmentFilter
    pagination_class = SyncPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator: no user, only the model
            return Enrollment.objects.none()
        return selectors.enrollment_list_readable(user=self.request.user)


@extend_schema_view(get=extend_schema(description=_READ_ALL.format(perm="enrollments.view_enrollment")))
class EnrollmentDetailView(generics.RetrieveAPIView):
    serializer_class = EnrollmentSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator: no user, only the model
            return Enrollment.objects.none()
        return selectors.enrollment_list_readable(user=self.request.user)


class CourseEnrollView(APIView):
    @extend_schema(request=None, responses={201: EnrollmentSerializer, 200: EnrollmentSerializer})
    def post(self, request, slug: str):
        course = Course.objects.published().filter(slug=slug).first()
        if course is None:
            raise Http404
        enrollment, created = services.enrollment_create(learner=request.user, course=course)
        enrollment = selectors.enrollment_get_for_learner(learner=request.user, enrollment_id=enrollment.pk)
        data = EnrollmentSerializer(enrollment, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class LessonCompleteView(APIView):
    @extend_schema(
        request=None,
        responses={
            202: OpenApiResponse(LessonCompleteSerializer, description="Recorded; progress sync queued."),
            200: OpenApiResponse(LessonCompleteSerializer, description="Already complete."),
        },
    )
    def post(self, request, pk: int):
        try:
            completion, created = services.lesson_complete(learner=request.user, lesson_id=pk)
        except services.NotEnrolled:
            raise Http404 from None
        body = {
            "enrollment_id": completion.enrollment_id,
            "lesson_id": completion.lesson_id,
            "completed_at": completion.completed_at,
            "created": created,
            "progress_sync": "queued" if created else "not_needed",
        }
        return Response(
            LessonCompleteSerializer(body).data, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK
        )


class CourseRecomputeView(APIView):
    """Recompute every enrollment's progress in a course (after lesson changes, or to repair): an operation
    to follow. Needs `enrollments.recompute_coursestats`; learners get 404."""

    @extend_schema(
        request=None,
        responses={
            202: OpenApiResponse(OperationSerializer, description="Queued, or already running (one at a time)."),
        },
    )
    def post(self, request, slug: str):
        if not request.user.is_staff:
            raise Http404
        if not request.user.has_perm("enrollments.recompute_coursestats"):
            raise PermissionDenied()
        course = Course.objects.filter(slug=slug).first()
        if course is None:
            raise Http404
        operation, _ = services.course_recompute_start(course=course, started_by=request.user)
        data = OperationSerializer(operation, context={"request": request}).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})
