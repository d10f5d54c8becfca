from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from courses import selectors as course_selectors
from courses.api.serializers import CourseDetailSerializer
from courses.models import Course
from enrollments import selectors, services
from enrollments.api.filters import EnrollmentFilter
from enrollments.api.serializers import EnrollmentSerializer, LessonCompleteSerializer
from enrollments.models import Enrollment
from lms.api import SyncPagination


class CourseDetailView(generics.RetrieveAPIView):
    """A published course and its syllabus, for anyone; the lessons' bodies only for those who may read them
    (the same rule as the lesson pages: `lesson_content_visible`)."""

    permission_classes = [AllowAny]
    serializer_class = CourseDetailSerializer

    def get_object(self):
        try:
            return course_selectors.course_get_published(slug=self.kwargs["slug"])
        except Course.DoesNotExist:
            raise Http404 from None

    def retrieve(self, request, *args, **kwargs):
        course = self.get_object()
        enrollment = selectors.enrollment_for_course(learner=request.user, course=course)
        bodies = selectors.lesson_content_visible(user=request.user, enrollment=enrollment)
        context = {**self.get_serializer_context(), "lesson_bodies": bodies}
        return Response(self.get_serializer(course, context=context).data)


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
