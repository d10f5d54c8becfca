from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from certificates.api import views as certificate_api
from courses import views as course_views
from courses.api import views as course_api
from enrollments.api import views as enrollment_api
from lms import views
from lms.accounts.api import views as account_api

api_patterns = [
    path("auth/register/", account_api.RegisterView.as_view(), name="api-register"),
    path("auth/token/", account_api.TokenView.as_view(), name="api-token"),
    path("auth/logout/", account_api.LogoutView.as_view(), name="api-logout"),
    path("auth/me/", account_api.MeView.as_view(), name="api-me"),
    path("courses/", course_api.CourseListView.as_view(), name="api-course-list"),
    path("courses/<slug:slug>/", enrollment_api.CourseDetailView.as_view(), name="api-course-detail"),
    path("courses/<slug:slug>/enroll/", enrollment_api.CourseEnrollView.as_view(), name="api-course-enroll"),
    path("enrollments/", enrollment_api.EnrollmentListView.as_view(), name="api-enrollment-list"),
    path("enrollments/<int:pk>/", enrollment_api.EnrollmentDetailView.as_view(), name="api-enrollment-detail"),
    path("lessons/<int:pk>/complete/", enrollment_api.LessonCompleteView.as_view(), name="api-lesson-complete"),
    path("certificates/", certificate_api.CertificateListView.as_view(), name="api-certificate-list"),
    path("certificates/<int:pk>/", certificate_api.CertificateDetailView.as_view(), name="api-certificate-detail"),
    path("certificates/<int:pk>/pdf/", certificate_api.CertificatePdfView.as_view(), name="api-certificate-pdf"),
    path(
        "certificates/<int:pk>/revoke/",
        certificate_api.CertificateRevokeView.as_view(),
        name="api-certificate-revoke",
    ),
    path(
        "certificates/<int:pk>/regenerate/",
        certificate_api.CertificateRegenerateView.as_view(),
        name="api-certificate-regenerate",
    ),
    path(
        "certificates/verify/<str:code>/",
        certificate_api.CertificateVerifyView.as_view(),
        name="api-certificate-verify",
    ),
    path("webhooks/", include("notifications.api.urls")),
    path("imports/", include("enrollments.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's init script from its own URL: no inline script under the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", views.healthz, name="healthz"),
    path("healthz/", views.healthz),
    path("healthz/detail", views.healthz_detail, name="healthz-detail"),
    path("metrics", views.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("accounts/", include("lms.accounts.urls")),
    path("courses/", course_views.catalog, name="catalog"),
    path("", include("enrollments.urls")),
    path("", include("certificates.urls")),
    path("api/", include(api_patterns)),
]

# Errors answer JSON under /api/ (docs/api.md: every API error is JSON) and the site's pages elsewhere
# (lms/templates/403.html, 404.html, 500.html).
handler400 = "lms.views.bad_request"
handler403 = "lms.views.permission_denied"
handler404 = "lms.views.page_not_found"
handler500 = "lms.views.server_error"
