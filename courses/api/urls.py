"""The courses API, mounted at /api/ by lms/urls.py."""

from django.urls import path

from courses.api import views

urlpatterns = [
    path("courses/", views.CourseListView.as_view(), name="api-course-list"),
    path("courses/<slug:slug>/", views.CourseDetailView.as_view(), name="api-course-detail"),
]
