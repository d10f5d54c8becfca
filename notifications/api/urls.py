"""Staff webhook API, included by lms/urls.py under "api/webhooks/"."""

from django.urls import path

from notifications.api import views

urlpatterns = [
    path("endpoints/", views.WebhookEndpointListView.as_view(), name="api-webhook-endpoint-list"),
    path("endpoints/<int:pk>/", views.WebhookEndpointDetailView.as_view(), name="api-webhook-endpoint-detail"),
    path("endpoints/<int:pk>/test/", views.WebhookEndpointTestView.as_view(), name="api-webhook-endpoint-test"),
    path(
        "endpoints/<int:pk>/rotate-secret/",
        views.WebhookEndpointSecretRotateView.as_view(),
        name="api-webhook-endpoint-rotate-secret",
    ),
    path("deliveries/", views.WebhookDeliveryListView.as_view(), name="api-webhook-delivery-list"),
    path("deliveries/<int:pk>/", views.WebhookDeliveryDetailView.as_view(), name="api-webhook-delivery-detail"),
    path(
        "deliveries/<int:pk>/redeliver/",
        views.WebhookDeliveryRedeliverView.as_view(),
        name="api-webhook-delivery-redeliver",
    ),
]
