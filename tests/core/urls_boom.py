"""The portal's URLs plus one view that crashes, to test the 500 page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from wrapup_portal.urls import handler403, handler404, handler500, urlpatterns as portal_urlpatterns  # noqa: F401

BOOM_PATH = "/boom/"
SECRET_IN_ERROR = "internal detail that must not leak"


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(SECRET_IN_ERROR)


urlpatterns = [path("boom/", boom), *portal_urlpatterns]
