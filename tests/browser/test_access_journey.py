"""Sign-in and access in a real browser: /admin/ for each role, an expired session, a stale form, a lockout."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.sessions.models import Session
from django.core.management import call_command

from wrapup_portal.accounts.services import demo_password
from wrapup_portal.audit.models import Action, AuditEvent
from wrapup_portal.catalog.models import SyncRun

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_users() -> None:
    call_command("seed_demo", stdout=StringIO())


def sign_in(page, username: str, password: str | None = None) -> None:
    page.fill("#id_username", username)
    page.fill("#id_password", password or demo_password(username))
    page.click("button[type=submit]")


def test_only_admins_use_django_admin_the_others_are_told_not_allowed(page, demo_users) -> None:
    for username in ("lead", "compliance"):
        page.goto("/accounts/login/")
        sign_in(page, username)
        page.wait_for_selector("h1:text('Overview')")
        # Before: /admin/ -> /admin/login/ -> /accounts/login/?next=/admin/ -> /admin/ ... (too many redirects)
        page.goto("/admin/")
        page.wait_for_selector("h1:text('Not allowed')")
        page.click("text=Sign out")
        page.wait_for_selector("h1:text('Sign in')")
    page.goto("/admin/")
    sign_in(page, "admin")
    page.wait_for_selector("text=Read-only views of portal data")
    page.click("a:text('Users')")
    page.wait_for_selector("a:text('lead')")
    page.click("a:text('lead')")
    page.wait_for_selector("h1:text('View user')")
    assert page.locator("input[name=_save]").count() == 0


def test_sync_now_after_the_session_expired_returns_to_the_catalog_after_sign_in(page, demo_users) -> None:
    page.goto("/accounts/login/?next=/catalog/")
    sign_in(page, "admin")
    page.wait_for_selector("h1:text('Code catalog')")
    Session.objects.all().delete()  # the session expires while the page is open

    page.click("button:text('Sync now')")
    page.wait_for_selector("h1:text('Sign in')")
    sign_in(page, "admin")
    # Before: signing in ended on a GET of /catalog/sync/, a blank 405.
    page.wait_for_url("**/catalog/")
    page.wait_for_selector("h1:text('Code catalog')")
    assert not SyncRun.objects.exists()  # nothing was done while signed out; press it again
    page.click("button:text('Sync now')")
    page.wait_for_url("**/catalog/runs/*/")
    assert SyncRun.objects.count() == 1


def test_form_sent_without_its_csrf_cookie_shows_the_expired_form_page(page, demo_users) -> None:
    page.goto("/accounts/login/?next=/catalog/")
    sign_in(page, "admin")
    page.wait_for_selector("h1:text('Code catalog')")
    page.context.clear_cookies(name="csrftoken")

    page.click("button:text('Sync now')")
    # Before: Django's own "Forbidden (403) CSRF verification failed. Request aborted."
    page.wait_for_selector("h1:text('This form had expired')")
    assert page.locator("nav.main a", has_text="Code catalog").count() == 1
    assert not SyncRun.objects.exists()
    page.click("a:text('Reload the page')")
    page.wait_for_selector("h1:text('Code catalog')")
    page.click("button:text('Sync now')")
    page.wait_for_url("**/catalog/runs/*/")
    assert SyncRun.objects.count() == 1


def test_locked_out_lead_reads_the_wait_in_words_and_an_admin_unlocks_them(browser, live_server, page, demo_users, settings) -> None:
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    page.goto("/accounts/login/")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(page, "lead", "wrong-password")
    page.wait_for_selector("h1:text('Sign-in locked')")
    message = page.inner_text("[role=alert]")
    assert "Try again in 15 minutes" in message and "PT15M" not in message
    page.click("a:text('Back to sign in')")
    page.wait_for_selector("h1:text('Sign in')")

    admin_context = browser.new_context(base_url=live_server.url)
    admin_context.set_default_timeout(10_000)
    try:
        admin = admin_context.new_page()
        admin.goto("/accounts/login/")
        sign_in(admin, "admin")
        admin.click("nav.main a:text('Queue grants')")
        admin.click("a:text('Sign-in lockouts')")
        admin.wait_for_selector("h1:text('Sign-in lockouts')")
        admin.click("button[aria-label='Unlock lead from 127.0.0.1']")
        admin.wait_for_selector("text=lead may sign in again from 127.0.0.1.")
        assert admin.locator("text=Nobody is locked out.").count() == 1
    finally:
        admin_context.close()

    sign_in(page, "lead")
    page.wait_for_selector("h1:text('Overview')")
    event = AuditEvent.objects.get(action=Action.UNLOCKED)
    assert (event.actor_username, event.target_id) == ("admin", "lead")
