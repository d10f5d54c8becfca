from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import AllowAny

from courses import selectors
from courses.api.serializers import CourseDetailSerializer, CourseListSerializer
from courses.models import Course


class CourseListView(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = CourseListSerializer

    def get_queryset(self):
        return selectors.course_list_published()


class CourseDetailView(generics.RetrieveAPIView):
    permission_classes = [AllowAny]
    serializer_class = CourseDetailSerializer

    @extend_schema(responses={200: CourseDetailSerializer})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_object(self):
        try:
            return selectors.course_get_published(slug=self.kwargs["slug"])
        except Course.DoesNotExist:
            raise Http404 from None
