from rest_framework import generics
from rest_framework.permissions import AllowAny

from courses import selectors
from courses.api.serializers import CourseListSerializer


class CourseListView(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = CourseListSerializer

    def get_queryset(self):
        return selectors.course_list_published()
