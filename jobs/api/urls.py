"""The operations API, mounted at /api/operations/ by lms/urls.py."""

from django.urls import path

from jobs.api import views

urlpatterns = [
    path("", views.OperationListView.as_view(), name="api-operation-list"),
    path("<int:pk>/", views.OperationDetailView.as_view(), name="api-operation-detail"),
    path("<int:pk>/cancel/", views.OperationCancelView.as_view(), name="api-operation-cancel"),
]
