"""The imports API, mounted at /api/imports/ by lms/urls.py."""

from django.urls import path

from enrollments.api import imports

urlpatterns = [
    path("", imports.ImportListCreateView.as_view(), name="api-import-list"),
    path("<int:pk>/", imports.ImportDetailView.as_view(), name="api-import-detail"),
    path("<int:pk>/cancel/", imports.ImportCancelView.as_view(), name="api-import-cancel"),
    path("<int:pk>/errors.csv", imports.ImportErrorReportView.as_view(), name="api-import-errors"),
]
