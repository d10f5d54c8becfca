"""The enrollments API, mounted at /api/ by lms/urls.py."""

from django.urls import path

from enrollments.api import views

urlpatterns = [
    path("courses/<slug:slug>/enroll/", views.CourseEnrollView.as_view(), name="api-course-enroll"),
    path("courses/<slug:slug>/recompute/", views.CourseRecomputeView.as_view(), name="api-course-recompute"),
    path("enrollments/", views.EnrollmentListView.as_view(), name="api-enrollment-list"),
    path("enrollments/<int:pk>/", views.EnrollmentDetailView.as_view(), name="api-enrollment-detail"),
    path("lessons/<int:pk>/complete/", views.LessonCompleteView.as_view(), name="api-lesson-complete"),
]
