"""Root URL configuration: one include per app."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView

from wrapup_portal.assignments.hooks import genesys_events

urlpatterns = [
    path("", include("wrapup_portal.overview.urls")),
    path("", include("wrapup_portal.core.urls")),
    path("accounts/", include("wrapup_portal.accounts.urls")),
    path("assignments/", include("wrapup_portal.assignments.urls")),
    path("audit/", include("wrapup_portal.audit.urls")),
    path("catalog/", include("wrapup_portal.catalog.urls")),
    path("interactions/", include("wrapup_portal.interactions.urls")),
    path("rules/", include("wrapup_portal.assignments.rule_urls")),
    # Queue grants moved from the catalog to accounts; old bookmarks still land on them.
    path("catalog/grants/", RedirectView.as_view(pattern_name="accounts:grants", permanent=True), name="grants-moved"),
    path(
        "catalog/grants/<int:user_id>/",
        RedirectView.as_view(pattern_name="accounts:grant", permanent=True),
        name="grant-moved",
    ),
    # One sign-in page for everything (lockout and audit apply to it): the admin site's own
    # login form is replaced by a redirect to it.
    path(
        "admin/login/",
        login_not_required(RedirectView.as_view(pattern_name="accounts:login", query_string=True)),
        name="admin-login",
    ),
    path("admin/", admin.site.urls),
    # Conversation events from Genesys (Process Automation workflow or EventBridge): the rules' event path.
    path("hooks/genesys/events", genesys_events, name="hooks-genesys-events"),
]

handler403 = "wrapup_portal.core.views.permission_denied"
handler404 = "wrapup_portal.core.views.page_not_found"
handler500 = "wrapup_portal.core.views.server_error"
