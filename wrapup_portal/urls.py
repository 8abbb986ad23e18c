"""Root URL configuration: one include per app."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("wrapup_portal.core.urls")),
    path("accounts/", include("wrapup_portal.accounts.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "wrapup_portal.core.views.permission_denied"
handler404 = "wrapup_portal.core.views.page_not_found"
handler500 = "wrapup_portal.core.views.server_error"
