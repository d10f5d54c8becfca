from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

api_patterns = [
    path("auth/", include("accounts.api.urls")),
    path("", include("courses.api.urls")),
    path("", include("enrollments.api.urls")),
    path("", include("certificates.api.urls")),
    path("imports/", include("imports.api.urls")),
    path("reports/", include("reports.api.urls")),
    path("operations/", include("jobs.api.urls")),
    path("webhooks/", include("notifications.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's init script from its own URL: no inline script under the CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]

urlpatterns = [
    path("", include("core.urls")),
    path("", include("jobs.urls")),
    # The jobs admin lived under /admin/lms/ before the jobs app, imports under /admin/enrollments/ before
    # the imports app: old bookmarks and links still arrive.
    re_path(r"^admin/lms/(?P<rest>.*)$", RedirectView.as_view(url="/admin/jobs/%(rest)s", query_string=True)),
    re_path(
        r"^admin/enrollments/(?P<rest>import(?:job|edenrollment|rowerror)/.*)$",
        RedirectView.as_view(url="/admin/imports/%(rest)s", query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("", include("courses.urls")),
    path("", include("enrollments.urls")),
    path("", include("certificates.urls")),
    path("", include("imports.urls")),
    path("", include("reports.urls")),
    path("api/", include(api_patterns)),
]

# Errors answer JSON under /api/ (docs/api.md: every API error is JSON) and the site's pages elsewhere
# (core/templates/403.html, 404.html, 500.html).
handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
