"""The certificates API, mounted at /api/ by lms/urls.py."""

from django.urls import path

from certificates.api import views

urlpatterns = [
    path("certificates/", views.CertificateListView.as_view(), name="api-certificate-list"),
    path("certificates/<int:pk>/", views.CertificateDetailView.as_view(), name="api-certificate-detail"),
    path("certificates/<int:pk>/pdf/", views.CertificatePdfView.as_view(), name="api-certificate-pdf"),
    path("certificates/<int:pk>/revoke/", views.CertificateRevokeView.as_view(), name="api-certificate-revoke"),
    path(
        "certificates/<int:pk>/regenerate/",
        views.CertificateRegenerateView.as_view(),
        name="api-certificate-regenerate",
    ),
    path("certificates/verify/<str:code>/", views.CertificateVerifyView.as_view(), name="api-certificate-verify"),
]
