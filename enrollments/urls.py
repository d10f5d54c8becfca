from django.urls import path

from enrollments import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/name/", views.dashboard_name, name="dashboard_name"),
    path("courses/<slug:slug>/", views.course_detail, name="course_detail"),
    path("courses/<slug:slug>/enroll/", views.course_enroll, name="course_enroll"),
    path("courses/<slug:course_slug>/lessons/<slug:lesson_slug>/", views.lesson_detail, name="lesson_detail"),
    path("lessons/<int:pk>/complete/", views.lesson_complete, name="lesson_complete"),
    path("staff/courses/<slug:slug>/analytics/", views.course_analytics, name="course_analytics"),
    path(
        "staff/courses/<slug:slug>/analytics/recompute/",
        views.course_analytics_recompute,
        name="course_analytics_recompute",
    ),
    path("staff/imports/new/", views.import_new, name="import_new"),
    path("staff/imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("staff/imports/<int:pk>/cancel/", views.import_cancel, name="import_cancel"),
]
