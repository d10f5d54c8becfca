"""The project's URLs plus one view that crashes, for the 500 page test."""

from django.urls import path

from lms.urls import handler400, handler403, handler404, handler500, urlpatterns  # noqa: F401


def crash(request):
    raise RuntimeError("boom")


urlpatterns = [*urlpatterns, path("crash/", crash)]
