from django.urls import path

from imports import views

urlpatterns = [
    path("staff/imports/new/", views.import_new, name="import_new"),
    path("staff/imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("staff/imports/<int:pk>/cancel/", views.import_cancel, name="import_cancel"),
]
