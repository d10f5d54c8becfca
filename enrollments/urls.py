from django.urls import path

from enrollments import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/name/", views.dashboard_name, name="dashboard_name"),
    path("courses/<slug:slug>/enroll/", views.course_enroll, name="course_enroll"),
    path("courses/<slug:course_slug>/lessons/<slug:lesson_slug>/", views.lesson_detail, name="lesson_detail"),
    path("lessons/<int:pk>/complete/", views.lesson_complete, name="lesson_complete"),
    path("staff/courses/<slug:slug>/analytics/", views.course_analytics, name="course_analytics"),
    path(
        "staff/courses/<slug:slug>/analytics/recompute/",
        views.course_analytics_recompute,
        name="course_analytics_recompute",
    ),
]
