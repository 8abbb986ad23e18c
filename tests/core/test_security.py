"""Security headers on every page, CSRF on every POST, sessions that end, passwords that are validated."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD
from tests.test_access import PAGE_ACCESS, PORTAL_ROUTES, PUBLIC, WEBHOOKS, Route
from wrapup_portal.accounts.roles import ADMIN, COMPLIANCE, ROLES, TEAM_LEAD
from wrapup_portal.accounts.services import DEMO_USERS, demo_password
from wrapup_portal.core.middleware import SIGNED_IN_AT

pytestmark = pytest.mark.django_db

CSP_REQUIRED = ("default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'",
                "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'")  # fmt: skip


def role_for(route: Route) -> str | None:
    """A role that may GET the page (None: anonymous)."""
    if route.name in PUBLIC:
        return None
    page = PAGE_ACCESS[route.name]
    return None if page.method != "get" else sorted(page.roles, key=[ADMIN, TEAM_LEAD, COMPLIANCE].index)[0]


def assert_secure_headers(response, what: str) -> None:
    csp = response.get("Content-Security-Policy", "")
    for directive in CSP_REQUIRED:
        assert directive in csp, f"{what}: CSP lacks {directive!r}: {csp!r}"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, what
    assert response.get("X-Frame-Options") == "DENY", what
    assert response.get("X-Content-Type-Options") == "nosniff", what
    assert response.get("Referrer-Policy") == "same-origin", what


GET_PAGES = [r for r in PORTAL_ROUTES if r.name not in WEBHOOKS and (r.name in PUBLIC or PAGE_ACCESS[r.name].method == "get")]


@pytest.mark.parametrize("route", GET_PAGES, ids=lambda r: r.name)
def test_every_page_carries_the_security_headers(make_user, client_for, route: Route) -> None:
    role = role_for(route)
    client = client_for(make_user("someone", role, is_staff=role == ADMIN)) if role else Client()
    response = client.get(route.path)
    assert response.status_code in (200, 301, 302, 404, 503), response.status_code
    assert_secure_headers(response, route.path)


def test_refusals_and_error_pages_carry_them_too(make_user, client_for) -> None:
    lead = client_for(make_user("lead", TEAM_LEAD))
    for response, what in ((lead.get("/system/"), "403"), (lead.get("/no-such-page/"), "404"),
                           (Client().get("/assignments/"), "sign-in redirect"), (Client().post("/hooks/genesys/events"), "hook")):  # fmt: skip
        assert_secure_headers(response, what)


def test_templates_hold_no_inline_script_or_style() -> None:
    import re
    from pathlib import Path

    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|\sstyle\s*=|javascript:|hx-on", re.IGNORECASE)
    found = [f"{path.relative_to(settings.BASE_DIR)}: {m.group(0)}" for path in (settings.BASE_DIR / "templates").rglob("*.html")
             for m in inline.finditer(path.read_text())]  # fmt: skip
    assert not found, found
    assert Path(settings.BASE_DIR / "static" / "portal" / "portal.css").read_text().count(".htmx-indicator") >= 2


def test_htmx_is_configured_to_inject_no_style_and_eval_nothing(make_user, client_for) -> None:
    page = client_for(make_user("lead", TEAM_LEAD)).get("/").content.decode()
    assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false, "allowEval": false, "allowScriptTags": false}\'>' in page
    assert 'hx-headers=\'{"X-CSRFToken": "' in page  # every htmx request carries the token


# --- CSRF ------------------------------------------------------------------------------------------
POSTABLE = [r for r in PORTAL_ROUTES if r.name not in WEBHOOKS]


@pytest.mark.parametrize("route", POSTABLE, ids=lambda r: r.name)
def test_a_post_without_a_csrf_token_is_refused_everywhere(make_user, route: Route) -> None:
    client = Client(enforce_csrf_checks=True)
    if route.name not in PUBLIC:
        roles = PAGE_ACCESS[route.name].roles
        client.force_login(make_user("someone", sorted(roles)[0], is_staff=ADMIN in roles))
    client.get("/")  # a CSRF cookie, but no token in the form or header
    response = client.post(route.path, {"anything": "1"})
    assert response.status_code == 403 and b"This form had expired" in response.content, route.path


def test_the_token_in_the_htmx_header_or_the_form_is_accepted(make_user) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("admin", ADMIN, is_staff=True))
    client.get("/")
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    assert client.post("/catalog/sync/", HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true").status_code in (200, 302)
    assert client.post("/accounts/lockouts/unlock/", {"csrfmiddlewaretoken": token}).status_code == 302


# --- sessions -------------------------------------------------------------------------------------
def test_a_session_expires_after_the_idle_timeout_and_each_request_moves_it_on(make_user, client_for) -> None:
    client = client_for(make_user("lead", TEAM_LEAD))
    assert settings.SESSION_SAVE_EVERY_REQUEST and settings.SESSION_COOKIE_AGE <= settings.SESSION_MAX_AGE_SECONDS
    client.get("/")
    session = Session.objects.get()
    left = (session.expire_date - timezone.now()).total_seconds()
    assert settings.SESSION_COOKIE_AGE - 60 < left <= settings.SESSION_COOKIE_AGE

    Session.objects.update(expire_date=timezone.now() - timezone.timedelta(seconds=1))  # idle for too long
    response = client.get("/assignments/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_busy_session_still_ends_after_its_maximum_age(make_user, client_for) -> None:
    client = client_for(make_user("lead", TEAM_LEAD))
    assert client.get("/").status_code == 200
    session = client.session
    session[SIGNED_IN_AT] = int(time.time()) - settings.SESSION_MAX_AGE_SECONDS - 1
    session.save()

    response = client.get("/assignments/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_signing_in_starts_the_maximum_age_afresh(make_user) -> None:
    make_user("lead", TEAM_LEAD)
    client = Client()
    assert client.post("/accounts/login/", {"username": "lead", "password": PASSWORD}).status_code == 302
    assert time.time() - client.session[SIGNED_IN_AT] < 60


# --- passwords ------------------------------------------------------------------------------------
@pytest.mark.parametrize("weak", ["short1", "password1234", "123456789012", "someone-lead"])
def test_weak_passwords_are_refused_where_passwords_are_set(make_user, client_for, weak: str) -> None:
    user = make_user("someone-lead", ADMIN, is_staff=True)
    with pytest.raises(ValidationError):
        validate_password(weak, user)
    # The one page where a portal user sets a password: the admin site's "change my password".
    response = client_for(user).post("/admin/password_change/", {"old_password": PASSWORD, "new_password1": weak,
                                                                  "new_password2": weak})  # fmt: skip
    assert response.status_code == 200 and response.context["form"].errors.get("new_password2")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_strong_password_is_accepted_and_the_demo_passwords_pass_the_validators(make_user, client_for) -> None:
    user = make_user("someone", ADMIN, is_staff=True)
    strong = "plum tractor violet 42"
    response = client_for(user).post("/admin/password_change/", {"old_password": PASSWORD, "new_password1": strong,
                                                                  "new_password2": strong})  # fmt: skip
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(strong)
    assert settings.AUTH_PASSWORD_VALIDATORS and {r for _, r, _ in DEMO_USERS} <= set(ROLES)
    for username, _, _ in DEMO_USERS:
        validate_password(demo_password(username), make_user(username))


def test_every_post_form_in_the_templates_carries_the_csrf_token() -> None:
    import re

    form = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.IGNORECASE | re.DOTALL)
    missing = [f"{path.relative_to(settings.BASE_DIR)}: {m.group(0)[:80]}"
               for path in (settings.BASE_DIR / "templates").rglob("*.html")
               for m in form.finditer(path.read_text()) if "{% csrf_token %}" not in m.group(1)]  # fmt: skip
    assert not missing, missing
