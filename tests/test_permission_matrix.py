"""The permission matrix: every URL the resolver knows × every kind of visitor, each cell an expected status.

Built on ``test_access``: the URL patterns come from walking the resolver (a new view is covered
without editing this file) and who may use a portal page comes from its ``PAGE_ACCESS`` table (a
new view without an entry fails ``test_every_portal_page_declares_who_may_use_it`` there, and
``test_every_url_has_a_row_in_the_matrix`` here). The actors are the anonymous visitor, a team lead,
a team lead of another queue, an admin, compliance, and an inactive account that still holds a
session. Object-level checks (a lead's conversations, assignments, jobs, uploads and exports
follow their queue grants) are in ``tests/assignments/test_object_access.py``.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.test_access import PAGE_ACCESS, PUBLIC, ROUTES, SSO, WEBHOOKS, Route
from wrapup_portal.accounts.models import QueueGrant
from wrapup_portal.accounts.roles import ADMIN, COMPLIANCE, TEAM_LEAD
from wrapup_portal.catalog.models import CodeGroup

ANONYMOUS, LEAD, OTHER_LEAD, ADMIN_ACTOR, COMPLIANCE_ACTOR, INACTIVE = (
    "anonymous", "lead", "lead of another queue", "admin", "compliance", "inactive user")  # fmt: skip
ACTORS = (ANONYMOUS, LEAD, OTHER_LEAD, ADMIN_ACTOR, COMPLIANCE_ACTOR, INACTIVE)
ROLE_OF = {LEAD: TEAM_LEAD, OTHER_LEAD: TEAM_LEAD, ADMIN_ACTOR: ADMIN, COMPLIANCE_ACTOR: COMPLIANCE}

SIGN_IN = "sign-in"  # a 302 to the portal's sign-in page (or the admin's, which redirects there)
ALLOWED = "allowed"  # 200, or a redirect onwards (302/301), or 404 for a sample id that is no object
# Django's admin site as the portal's admins see it: read-only views of users and queue grants
# (accounts/admin.py); adding, deleting, setting passwords and every other model are refused.
ADMIN_SITE_READABLE = ("/admin/auth/user/", "/admin/accounts/queuegrant/")
ADMIN_SITE_REFUSED = ("/add/", "/delete/", "/password/")
# The site's own pages: the index, signing out, and changing one's own password (validated).
ADMIN_SITE_OWN_PAGES = {"admin:index", "admin:logout", "admin:jsi18n", "admin:password_change",
                        "admin:password_change_done", "admin:view_on_site"}
NO_OBJECT = "refused or no such object"  # 403, or the admin's redirect to its index for a missing object


def expected(route: Route, actor: str) -> str | int:
    """What ``actor`` must get from ``route`` (a status, or SIGN_IN / ALLOWED)."""
    if route.name in WEBHOOKS:
        return 401  # a machine's URL: no session counts, only the shared secret
    signed_in = actor not in (ANONYMOUS, INACTIVE)  # an inactive account's session is no sign-in
    if route.name in ("admin-login", "admin:login"):
        return SIGN_IN  # the admin's sign-in is the portal's, for everyone
    if route.name in PUBLIC | SSO:
        return ALLOWED  # SSO's start and callback: for anyone, and a 404 for everyone while single sign-on is off
    if not signed_in or route.name == "accounts:logout":
        return SIGN_IN  # signing out ends on the sign-in page too
    role = ROLE_OF[actor]
    if route.name.startswith("admin:"):
        if role != ADMIN:
            return 403
        if route.name in ADMIN_SITE_OWN_PAGES:
            return ALLOWED
        if route.path.startswith(ADMIN_SITE_READABLE):
            return 403 if route.path.endswith(ADMIN_SITE_REFUSED) else ALLOWED
        # Another model: refused; a sample id that is no object may be answered first by a redirect to the index.
        return 403 if route.name.endswith(("_changelist", "_change", "_add", "_delete")) else NO_OBJECT
    return ALLOWED if role in PAGE_ACCESS[route.name].roles else 403


def method(route: Route) -> str:
    if route.name in WEBHOOKS or route.name == "admin:logout":
        return "post"
    return PAGE_ACCESS[route.name].method if route.name in PAGE_ACCESS else "get"


def matches(response, want: str | int, route_name: str = "") -> bool:
    if want == SIGN_IN:
        return response.status_code == 302 and urlparse(response["Location"]).path in ("/accounts/login/", "/admin/login/")
    if want == NO_OBJECT:
        return response.status_code == 403 or (response.status_code == 302 and response["Location"].startswith("/admin/")
                                                and not response["Location"].startswith("/admin/login/"))
    if want == ALLOWED:
        if response.status_code in (301, 302):
            return route_name == "admin:logout" or urlparse(response["Location"]).path not in ("/accounts/login/", "/admin/login/")
        return response.status_code in (200, 404, 503)  # 503: /healthz with no cluster running
    return response.status_code == want


@pytest.fixture
def actors(make_user, client_for, catalog) -> dict[str, Client]:
    """One signed-in client per actor; the two leads hold different queues."""
    groups = list(CodeGroup.objects.order_by("queue_id")[:2])
    lead, other = make_user("lead", TEAM_LEAD), make_user("other-lead", TEAM_LEAD)
    QueueGrant.objects.create(user=lead, code_group=groups[0])
    QueueGrant.objects.create(user=other, code_group=groups[1])
    inactive: User = make_user("inactive", TEAM_LEAD)
    QueueGrant.objects.create(user=inactive, code_group=groups[0])
    clients = {
        ANONYMOUS: Client(),
        LEAD: client_for(lead),
        OTHER_LEAD: client_for(other),
        ADMIN_ACTOR: client_for(make_user("admin", ADMIN, is_staff=True)),
        COMPLIANCE_ACTOR: client_for(make_user("compliance", COMPLIANCE)),
        INACTIVE: client_for(inactive),  # signed in while active...
    }
    inactive.is_active = False  # ...then deactivated: the session must stop working at once
    inactive.save()
    return clients


def test_every_url_has_a_row_in_the_matrix() -> None:
    for route in ROUTES:
        assert route.name in PAGE_ACCESS or route.name in PUBLIC | SSO | WEBHOOKS or route.name.startswith("admin:"), route.name
    assert len(ROUTES) * len(ACTORS) >= 6 * 40  # reported as the matrix size


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_permission_matrix(actors: dict[str, Client], route: Route) -> None:
    wrong = []
    for actor, client in actors.items():
        want = expected(route, actor)
        response = getattr(client, method(route))(route.path)
        if not matches(response, want, route.name):
            wrong.append(f"{actor}: {response.status_code} (expected {want})")
        if want == 403:
            assert b"Not allowed" in response.content or route.name.startswith("admin:"), actor
    assert not wrong, f"{method(route).upper()} {route.path}: " + "; ".join(wrong)


@pytest.mark.django_db
@pytest.mark.parametrize("route", [r for r in ROUTES if method(r) == "post" and r.name not in WEBHOOKS], ids=lambda r: r.name)
def test_post_only_views_refuse_get_to_those_allowed(actors: dict[str, Client], route: Route) -> None:
    for actor in (LEAD, ADMIN_ACTOR, COMPLIANCE_ACTOR):
        if expected(route, actor) == ALLOWED:
            assert actors[actor].get(route.path).status_code == 405, actor



HAND_EDITED_IDS = ["0", "99999999999999999999", "9223372036854775808", "00000000001"]


@pytest.mark.django_db
@pytest.mark.parametrize("route", [r for r in ROUTES if r.name in PAGE_ACCESS and "/1/" in r.path], ids=lambda r: r.name)
def test_hand_edited_ids_are_not_found_never_an_error(actors: dict[str, Client], route: Route) -> None:
    for actor in (LEAD, ADMIN_ACTOR, COMPLIANCE_ACTOR):
        if expected(route, actor) != ALLOWED:
            continue
        for value in HAND_EDITED_IDS:
            response = getattr(actors[actor], method(route))(route.path.replace("/1/", f"/{value}/"))
            allowed = (200, 301, 302, 404) if value == "00000000001" else (301, 302, 404)  # "00000000001" is 1
            assert response.status_code in allowed, (actor, value, response.status_code)
