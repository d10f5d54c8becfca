"""The imports API, mounted at /api/imports/ by lms/urls.py."""

from django.urls import path

from imports.api import views

urlpatterns = [
    path("", views.ImportListCreateView.as_view(), name="api-import-list"),
    path("<int:pk>/", views.ImportDetailView.as_view(), name="api-import-detail"),
    path("<int:pk>/cancel/", views.ImportCancelView.as_view(), name="api-import-cancel"),
    path("<int:pk>/errors.csv", views.ImportErrorReportView.as_view(), name="api-import-errors"),
]
