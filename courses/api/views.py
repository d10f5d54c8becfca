from django.http import Http404
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from courses import selectors, viewers
from courses.api.serializers import CourseDetailSerializer, CourseListSerializer
from courses.models import Course


class CourseListView(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = CourseListSerializer

    def get_queryset(self):
        return selectors.course_list_published()


class CourseDetailView(generics.RetrieveAPIView):
    """A published course and its syllabus, for anyone; the lessons' bodies only for those who may read them
    (the same rule as the lesson pages: `lesson_content_visible`)."""

    permission_classes = [AllowAny]
    serializer_class = CourseDetailSerializer

    def get_object(self):
        try:
            return selectors.course_get_published(slug=self.kwargs["slug"])
        except Course.DoesNotExist:
            raise Http404 from None

    def retrieve(self, request, *args, **kwargs):
        course = self.get_object()
        bodies = viewers.lesson_bodies_visible(user=request.user, course=course)
        context = {**self.get_serializer_context(), "lesson_bodies": bodies}
        return Response(self.get_serializer(course, context=context).data)
