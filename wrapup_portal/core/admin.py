"""Django's admin site as the portal uses it: admins read portal data there, nobody else signs in to it.

`PortalAdminConfig` replaces `django.contrib.admin` in INSTALLED_APPS so that `admin.site`
(what every app's `admin.py` registers on) is a `PortalAdminSite`. Each ModelAdmin decides
what it shows from the portal's own permissions (see `accounts/admin.py`, `audit/admin.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


class PortalAdminSite(AdminSite):
    site_header = "Wrap-up Portal admin"
    site_title = "Wrap-up Portal admin"
    index_title = "Read-only views of portal data"
    site_url = "/"

    def admin_view(self, view: Callable[..., HttpResponse], cacheable: bool = False) -> Callable[..., HttpResponse]:
        inner = super().admin_view(view, cacheable)

        def refuse_signed_in(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            # Django sends anyone without admin rights to the admin's sign-in, which is the
            # portal's; that page returns a signed-in user straight here: an endless loop.
            # A signed-in user without the rights gets the portal's "Not allowed" (403) instead.
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied
            return inner(request, *args, **kwargs)

        return update_wrapper(refuse_signed_in, inner)


class PortalAdminConfig(AdminConfig):
    default_site = "wrapup_portal.core.admin.PortalAdminSite"
