"""Request ids for every request (echoed, and recorded in audit events); htmx and expired sessions;
the Content-Security-Policy header; the absolute session lifetime."""

from __future__ import annotations

import re
import time
import uuid
import zoneinfo
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

REQUEST_ID_HEADER = "X-Request-ID"
# Accept a caller's id (a proxy's) only when it is short and harmless to log.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class ContentSecurityPolicyMiddleware:
    """``Content-Security-Policy`` (settings.CONTENT_SECURITY_POLICY) on every response that has none.

    Django 5.2 has no CSP of its own. The policy allows no inline script, inline style or eval, so
    an injected ``<script>`` or ``onclick=`` does nothing even if some escaping were ever missed.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        return response


SIGNED_IN_AT = "portal:signed_in_at"


class SessionLifetimeMiddleware:
    """Sign out a session older than SESSION_MAX_AGE_SECONDS, however active it has been.

    SESSION_SAVE_EVERY_REQUEST makes SESSION_COOKIE_AGE an idle timeout; this is the other bound.
    The start is noted on the first signed-in request (and again at each sign-in, accounts.signals).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            started = request.session.setdefault(SIGNED_IN_AT, int(time.time()))
            if not isinstance(started, int) or time.time() - started > settings.SESSION_MAX_AGE_SECONDS:
                logout(request)  # the login-required middleware then sends the person to sign in
        return self.get_response(request)


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request.request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex  # type: ignore[attr-defined]
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id  # type: ignore[attr-defined]
        return response


def same_origin_referer(request: HttpRequest) -> str:
    """The path (and query) of the page that sent this request, if it was one of the portal's; else ''."""
    referer = request.headers.get("Referer", "")
    if not referer or not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    parts = urlsplit(referer)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class PortalLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Django's LoginRequiredMiddleware, but a form sent after the session expired returns to its page.

    Signing in ends with a GET of `next`. For a POST that is the action's URL (Sync now's
    /catalog/sync/), which answers a GET with 405. So a POST, PUT, PATCH or DELETE is sent back
    to the page the form was on (the same-origin Referer), or to the overview without one.
    The action itself is not replayed: the person sees the page and presses the button again.
    """

    def handle_no_permission(self, request: HttpRequest, view_func: Callable[..., HttpResponse]) -> HttpResponse:
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return super().handle_no_permission(request, view_func)
        login_url = resolve_url(self.get_login_url(view_func))
        if origin := same_origin_referer(request):
            return redirect_to_login(origin, login_url, self.get_redirect_field_name(view_func))
        return HttpResponseRedirect(login_url)


class HtmxSignInRedirectMiddleware:
    """An htmx request whose session has expired reloads the whole page onto the sign-in form.

    Without this, htmx would follow the redirect and swap the sign-in page into a fragment
    (a progress bar, say). Sits just outside LoginRequiredMiddleware.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.headers.get("HX-Request") == "true"
            and response.status_code == 302
            and response["Location"].startswith(resolve_url(settings.LOGIN_URL))
        ):
            return HttpResponseClientRedirect(response["Location"])
        return response


TIME_ZONE_COOKIE = "portal_tz"


class UserTimeZoneMiddleware:
    """Show times in the browser's time zone: portal.js puts its IANA name in a cookie.

    Times are stored and sent to Genesys in UTC; only display and form input use this zone.
    An unknown or missing name falls back to PORTAL_TIME_ZONE.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = unquote(request.COOKIES.get(TIME_ZONE_COOKIE, ""))
        try:
            zone = zoneinfo.ZoneInfo(name) if name and len(name) < 64 else None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = None
        if zone is not None:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        return self.get_response(request)
