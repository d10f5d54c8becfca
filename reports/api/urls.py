"""The reports API, mounted at /api/reports/ by lms/urls.py."""

from django.urls import path

from reports.api import views

urlpatterns = [
    path("", views.ReportListCreateView.as_view(), name="api-report-list"),
    path("<int:pk>/", views.ReportDetailView.as_view(), name="api-report-detail"),
    path("<int:pk>/download/", views.ReportDownloadView.as_view(), name="api-report-download"),
]
