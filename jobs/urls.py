from django.urls import path

from jobs import operation_views, views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("healthz/", views.healthz),
    path("healthz/detail", views.healthz_detail, name="healthz-detail"),
    path("metrics", views.metrics, name="metrics"),
]

urlpatterns += [
    path("staff/operations/<int:pk>/", operation_views.operation_detail, name="operation_detail"),
    path("staff/operations/<int:pk>/cancel/", operation_views.operation_cancel_page, name="operation_cancel"),
]
