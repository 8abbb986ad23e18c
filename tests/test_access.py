"""Who may reach which URL.

The URL resolver is walked, so a URL added anywhere in the portal is covered without
editing this file for the anonymous check; the role check requires every page to be
declared in PAGE_ACCESS, so a new page cannot ship without saying who may use it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.test import Client
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

from wrapup_portal.accounts.roles import ADMIN, COMPLIANCE, ROLES, TEAM_LEAD

# Reachable without signing in.
PUBLIC = {"accounts:login", "core:healthz", "admin-login"}
# Single sign-on's start and callback: anonymous-allowed (@login_not_required, like the sign-in
# page) while it is on, 404 for everyone while it is off (the default, and these tests' setting).
# Their behaviour with it on: tests/accounts/test_sso.py.
SSO = {"accounts:sso_start", "accounts:sso_callback"}
# Called by machines without a session: a shared secret instead (tests/assignments/test_events.py).
WEBHOOKS = {"hooks-genesys-events"}
ALL = set(ROLES)


@dataclass(frozen=True)
class Page:
    roles: set[str]
    method: str = "get"
    # A detail page for an object that does not exist answers 404 once access is granted.
    missing_object: bool = False


# Every named portal URL (Django's admin site aside) with the roles that may use it.
PAGE_ACCESS: dict[str, Page] = {
    "overview:home": Page(ALL),
    "core:status": Page({ADMIN}),
    "accounts:logout": Page(ALL, method="post"),
    "audit:list": Page({COMPLIANCE}),
    "audit:detail": Page({COMPLIANCE}),  # /audit/1/: the sign-in of the test's own user
    "audit:export": Page({COMPLIANCE}),
    "audit:manifest": Page({COMPLIANCE}, missing_object=True),  # not an export: a 404 that says so
    "audit:verify": Page({COMPLIANCE}, method="post"),  # queues a verification: to its page
    "audit:verification": Page({COMPLIANCE}, missing_object=True),  # /audit/verify/1/: a sign-in, no request
    "catalog:groups": Page({ADMIN}),
    "catalog:toggle": Page({ADMIN}, method="post"),
    "catalog:group": Page({ADMIN}, missing_object=True),
    "catalog:sync": Page({ADMIN}, method="post"),
    "catalog:runs": Page({ADMIN}),
    "catalog:run": Page({ADMIN}, missing_object=True),
    "catalog:drift": Page({ADMIN}),
    "accounts:grants": Page({ADMIN}),
    "accounts:grant": Page({ADMIN}, missing_object=True),
    "accounts:lockouts": Page({ADMIN}),
    "accounts:unlock": Page({ADMIN}, method="post"),  # nothing chosen: back to the list
    "interactions:search": Page({TEAM_LEAD, ADMIN}),
    "interactions:export": Page({TEAM_LEAD, ADMIN}),
    "interactions:board": Page({TEAM_LEAD, ADMIN}),
    "interactions:bulk_all": Page({TEAM_LEAD, ADMIN}, method="post"),  # no search: back to the search with a message
    "interactions:detail": Page({TEAM_LEAD, ADMIN}, missing_object=True),  # "sample" is no conversation id
    "assignments:list": Page({TEAM_LEAD, ADMIN}),
    "assignments:detail": Page({TEAM_LEAD, ADMIN}, missing_object=True),
    "assignments:cancel": Page({TEAM_LEAD, ADMIN}, method="post", missing_object=True),
    "assignments:retry": Page({TEAM_LEAD, ADMIN}, method="post", missing_object=True),
    "interactions:assign": Page({TEAM_LEAD, ADMIN}, method="post", missing_object=True),  # "sample" is no leg
    "assignments:bulk_preview": Page({TEAM_LEAD, ADMIN}, method="post"),  # nothing selected: back to the search
    "assignments:bulk_confirm": Page({TEAM_LEAD, ADMIN}, method="post"),
    "assignments:upload": Page({TEAM_LEAD, ADMIN}),
    "assignments:upload_confirm": Page({TEAM_LEAD, ADMIN}, method="post"),  # no upload kept: back to the form
    "assignments:job": Page({TEAM_LEAD, ADMIN}, missing_object=True),
    "rules:list": Page({ADMIN}),
    "rules:create": Page({ADMIN}),
    "rules:dry_run": Page({ADMIN}),  # without ?run=1 it only explains itself: no Genesys call
    "rules:edit": Page({ADMIN}, missing_object=True),
    "rules:delete": Page({ADMIN}, missing_object=True),  # GET: the confirmation page
    "rules:toggle": Page({ADMIN}, method="post", missing_object=True),
    "rules:move": Page({ADMIN}, method="post", missing_object=True),
    # Anonymous-allowed (see SSO above); with single sign-on off they answer 404 to every role too.
    "accounts:sso_start": Page(ALL, missing_object=True),
    "accounts:sso_callback": Page(ALL, missing_object=True),
    # Old addresses of the queue grant pages: a redirect for anyone signed in; the target checks.
    "grants-moved": Page(ALL),
    "grant-moved": Page(ALL),
}

SAMPLE_BY_CONVERTER = {"int": "1", "uuid": str(uuid.UUID(int=1)), "path": "a/b"}


@dataclass(frozen=True)
class Route:
    name: str
    path: str


def _sample_path(pattern: RoutePattern | RegexPattern) -> str | None:
    if isinstance(pattern, RoutePattern):
        route = str(pattern._route)
        for name, converter in pattern.converters.items():
            kind = type(converter).__name__.replace("Converter", "").lower()
            sample = SAMPLE_BY_CONVERTER.get(kind, "sample")
            route = route.replace(f"<{kind}:{name}>", sample).replace(f"<{name}>", sample)
        return route
    regex = pattern._regex.lstrip("^").rstrip("$").rstrip("\\Z")
    if "(" in regex or "[" in regex:
        return None  # a regex with groups: covered by its siblings (only Django's admin has these)
    return regex.replace("\\", "")


def walk(resolvers: list, prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in resolvers:
        piece = _sample_path(entry.pattern)
        if piece is None:
            continue
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix + piece, ns)
        elif isinstance(entry, URLPattern):
            name = entry.name or f"<unnamed /{prefix}{piece}>"
            yield Route(f"{namespace}{name}", "/" + prefix + piece)


ROUTES = sorted({r.path: r for r in walk(get_resolver().url_patterns)}.values(), key=lambda r: r.path)
PORTAL_ROUTES = [r for r in ROUTES if not r.name.startswith("admin:")]


def test_the_walker_finds_the_known_pages() -> None:
    names = {r.name for r in ROUTES}
    assert {"overview:home", "core:status", "accounts:login", "admin:index"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_anonymous_request_redirects_to_sign_in(client: Client, route: Route) -> None:
    if route.name in WEBHOOKS:
        assert client.post(route.path).status_code == 401  # no secret: refused, never a sign-in page
        return
    response = client.get(route.path)
    if route.name in SSO:
        assert response.status_code == 404
        return
    if route.name in PUBLIC:
        assert response.status_code in (200, 503)
        return
    assert response.status_code == 302, f"{route.path} answered {response.status_code} to an anonymous user"
    target = urlparse(response["Location"]).path
    assert target in (resolve_url(settings.LOGIN_URL), "/admin/login/")


def test_every_portal_page_declares_who_may_use_it() -> None:
    undeclared = {r.name for r in PORTAL_ROUTES} - PUBLIC - WEBHOOKS - set(PAGE_ACCESS)
    assert not undeclared, f"add these URL names to PAGE_ACCESS: {sorted(undeclared)}"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", [r for r in PORTAL_ROUTES if r.name in PAGE_ACCESS], ids=lambda r: r.name)
def test_each_role_may_use_exactly_its_pages(make_user, client_for, role: str, route: Route) -> None:
    client = client_for(make_user("someone", role))
    page = PAGE_ACCESS[route.name]
    response = getattr(client, page.method)(route.path)
    if role in page.roles:
        allowed = (200, 301, 302, 404) if page.missing_object else (200, 301, 302)
        assert response.status_code in allowed, f"{role} should reach {route.path}"
    else:
        assert response.status_code == 403, f"{role} must not reach {route.path}"
        assert b"Not allowed" in response.content


@pytest.mark.django_db
def test_navigation_shows_each_role_only_its_pages(make_user, client_for) -> None:
    expected = {
        TEAM_LEAD: {"Overview", "Interactions", "Live board", "Assignments"},
        ADMIN: {"Overview", "Interactions", "Live board", "Assignments", "Code catalog", "Rules", "Queue grants",
                "System status"},
        COMPLIANCE: {"Overview", "Audit log"},
    }
    for role, labels in expected.items():
        response = client_for(make_user(f"u-{role}", role)).get("/")
        shown = {item["label"] for item in response.context["nav_items"]}
        assert shown == labels, role


@pytest.mark.django_db
def test_user_without_a_role_sees_only_the_overview(make_user, client_for) -> None:
    client = client_for(make_user("nobody"))
    assert client.get("/").status_code == 200
    assert client.get("/system/").status_code == 403
    assert client.get("/admin/").status_code == 403  # signed in, not an admin: told so (no sign-in loop)
