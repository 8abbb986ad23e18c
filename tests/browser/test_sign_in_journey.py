"""Sign-in journeys in a real browser: each demo user lands on the pages of their role."""

from __future__ import annotations

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from wrapup_portal.accounts.services import demo_password

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_users() -> None:
    call_command("seed_demo", stdout=StringIO())


def sign_in(page, username: str, password: str) -> None:
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")


def nav_labels(page) -> list[str]:
    return page.locator("nav.main a").all_inner_texts()


def test_each_demo_user_signs_in_and_sees_only_their_pages(page, demo_users) -> None:
    expected = {"lead": ["Overview"], "admin": ["Overview", "System status"], "compliance": ["Overview"]}
    for username, labels in expected.items():
        page.goto("/")
        assert "/accounts/login/" in page.url  # anonymous: sent to sign in
        sign_in(page, username, demo_password(username))
        page.wait_for_selector("h1:text('Overview')")
        assert [label for label in nav_labels(page) if label in ("Overview", "System status")] == labels
        page.click("text=Sign out")
        page.wait_for_selector("h1:text('Sign in')")


def test_admin_reaches_system_status_and_lead_is_told_not_allowed(page, demo_users) -> None:
    page.goto("/accounts/login/?next=/system/")
    sign_in(page, "lead", demo_password("lead"))
    page.wait_for_selector("h1:text('Not allowed')")
    page.click("text=Sign out")
    page.goto("/accounts/login/?next=/system/")
    sign_in(page, "admin", demo_password("admin"))
    page.wait_for_selector("h1:text('System status')")
    assert page.locator("td", has_text="database").count() == 1


def test_bad_passwords_show_a_message_then_the_lockout_page(page, demo_users) -> None:
    page.goto("/accounts/login/")
    sign_in(page, "lead", "wrong-password")
    assert page.locator("[role=alert]").inner_text().startswith("That username and password do not match")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(page, "lead", "wrong-password")
    page.wait_for_selector("h1:text('Sign-in locked')")


def test_sign_in_button_cannot_be_submitted_twice(page, demo_users) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", demo_password("lead"))
    # Listen after the portal's own guard: count the submissions it lets through, and keep
    # the page here so the button can be inspected.
    page.evaluate(
        """() => { window.passed = 0; document.addEventListener('submit', (e) => {
             if (!e.defaultPrevented) window.passed += 1;
             window.disabledAtSubmit = e.target.querySelector('button[type=submit]').disabled;
             e.preventDefault(); }); }"""
    )
    page.click("button[type=submit]")
    page.evaluate("document.querySelector('form[data-once]').requestSubmit()")
    page.keyboard.press("Enter")
    assert page.evaluate("window.passed") == 1
    assert page.evaluate("window.disabledAtSubmit") is True
    assert page.locator("button[type=submit]").is_disabled()
