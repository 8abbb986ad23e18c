"""The lockout page, and admins unlocking a locked-out sign-in (audited)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

from tests.conftest import PASSWORD
from wrapup_portal.accounts.selectors import lockout_list
from wrapup_portal.accounts.services import UNLOCK_NOT_LOCKED
from wrapup_portal.audit.models import Action, AuditEvent

LOGIN = "/accounts/login/"

pytestmark = pytest.mark.django_db


def lock_out(username: str, ip: str = "127.0.0.1") -> Client:
    client = Client(REMOTE_ADDR=ip)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(LOGIN, {"username": username, "password": "wrong"})
    assert response.status_code == 429
    return client


def test_lockout_page_says_how_long_in_words_and_links_back_to_sign_in(lead, settings) -> None:
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(LOGIN + "?next=/system/", {"username": "lead", "password": "wrong"})
    html = response.content.decode()
    assert response.status_code == 429
    assert "Try again in 15 minutes" in html
    assert "PT15M" not in html
    assert 'href="/accounts/login/?next=/system/"' in html


def test_lockout_page_words_longer_periods(lead, settings) -> None:
    settings.AXES_COOLOFF_TIME = timedelta(minutes=90)
    client = lock_out("lead")
    response = client.post(LOGIN, {"username": "lead", "password": "wrong"})
    assert "Try again in 1 hour 30 minutes" in response.content.decode()


def test_admin_sees_current_lockouts_and_unlocks_one(admin_user, lead, make_user, client_for) -> None:
    make_user("other")
    lock_out("lead", "10.0.0.7")
    lock_out("other", "10.0.0.8")
    admin = client_for(admin_user)
    page = admin.get("/accounts/lockouts/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "lead" in html and "10.0.0.7" in html and "other" in html and "10.0.0.8" in html
    assert html.count('action="/accounts/lockouts/unlock/"') == 2 and "data-once" in html

    response = admin.post("/accounts/lockouts/unlock/", {"username": "lead", "ip_address": "10.0.0.7"}, follow=True)
    assert response.status_code == 200
    assert "lead may sign in again from 10.0.0.7." in response.content.decode()
    assert [(lo.username, lo.ip_address) for lo in lockout_list()] == [("other", "10.0.0.8")]
    event = AuditEvent.objects.get(action=Action.UNLOCKED)
    assert (event.actor_username, event.target_id, event.outcome) == ("admin", "lead", "unlocked")
    assert event.extra["ip_address"] == "10.0.0.7" and event.extra["attempts_cleared"] >= 1
    # The lead signs in again from that address; the other user is still locked.
    assert Client(REMOTE_ADDR="10.0.0.7").post(LOGIN, {"username": "lead", "password": PASSWORD}).status_code == 302
    assert Client(REMOTE_ADDR="10.0.0.8").post(LOGIN, {"username": "other", "password": PASSWORD}).status_code == 429


def test_unlock_only_frees_that_address(admin_user, lead, client_for) -> None:
    lock_out("lead", "10.0.0.7")
    lock_out("lead", "10.0.0.9")
    client_for(admin_user).post("/accounts/lockouts/unlock/", {"username": "lead", "ip_address": "10.0.0.7"})
    assert [(lo.username, lo.ip_address) for lo in lockout_list()] == [("lead", "10.0.0.9")]


def test_unlocking_what_is_no_longer_locked_changes_nothing(admin_user, lead, client_for) -> None:
    admin = client_for(admin_user)
    before = AuditEvent.objects.count()
    response = admin.post("/accounts/lockouts/unlock/", {"username": "lead", "ip_address": "10.0.0.7"}, follow=True)
    assert UNLOCK_NOT_LOCKED % {"username": "lead", "ip_address": "10.0.0.7"} in response.content.decode()
    assert AuditEvent.objects.count() == before
    response = admin.post("/accounts/lockouts/unlock/", {"username": "lead"}, follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/lockouts/"
    assert AuditEvent.objects.count() == before


def test_expired_lockouts_are_not_listed(lead) -> None:
    lock_out("lead")
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    assert lockout_list() == []


def test_grants_page_links_to_the_lockouts(admin_user, client_for) -> None:
    assert 'href="/accounts/lockouts/"' in client_for(admin_user).get("/accounts/grants/").content.decode()
