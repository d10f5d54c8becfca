from django.urls import path

from reports import views

urlpatterns = [
    path("staff/reports/<int:pk>/download/", views.report_download, name="report_download"),
    path("staff/courses/<slug:slug>/learners/", views.course_learners, name="course_learners"),
    path("staff/courses/<slug:slug>/learners/<int:enrollment_id>/", views.learner_detail, name="course_learner_detail"),
]
