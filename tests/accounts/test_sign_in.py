"""Sign-in, sign-out and lockout after repeated bad passwords."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD
from wrapup_portal.accounts.forms import INVALID_LOGIN

LOGIN = "/accounts/login/"

pytestmark = pytest.mark.django_db


def sign_in(client: Client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password})


def test_sign_in_page_renders_for_anonymous_users(client: Client) -> None:
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert b"Sign in" in response.content


def test_correct_password_signs_in_and_lands_on_overview(client: Client, lead) -> None:
    response = sign_in(client, "lead", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("overview:home")
    assert client.get("/").status_code == 200


def test_next_parameter_is_honoured_but_not_to_other_hosts(client: Client, admin_user) -> None:
    response = client.post(LOGIN + "?next=/system/", {"username": "admin", "password": PASSWORD, "next": "/system/"})
    assert response["Location"] == "/system/"
    client.logout()
    response = client.post(LOGIN, {"username": "admin", "password": PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == reverse("overview:home")


def test_wrong_password_shows_a_clear_message_and_does_not_sign_in(client: Client, lead) -> None:
    response = sign_in(client, "lead", "wrong")
    assert response.status_code == 200
    assert INVALID_LOGIN in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_out_is_a_post_and_ends_the_session(client: Client, lead) -> None:
    sign_in(client, "lead", PASSWORD)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # back to the sign-in page


def test_lockout_after_repeated_bad_passwords(client: Client, lead) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        assert sign_in(client, "lead", "wrong").status_code == 200
    response = sign_in(client, "lead", "wrong")
    assert response.status_code == 429
    assert b"Sign-in locked" in response.content
    # Even the right password is refused while locked, and no session is created.
    response = sign_in(client, "lead", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_user_other_users_still_sign_in(client: Client, lead, admin_user) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "lead", "wrong")
    assert sign_in(client, "admin", PASSWORD).status_code == 302


def test_sign_in_works_again_after_the_lockout_period(client: Client, lead) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "lead", "wrong")
    assert sign_in(client, "lead", PASSWORD).status_code == 429
    # Let the cool-off period pass: the failures are now older than AXES_COOLOFF_TIME.
    past = settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=attempt.attempt_time - past)
    response = sign_in(client, "lead", PASSWORD)
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_expired_session_post_changes_nothing_and_asks_to_sign_in_again(admin_user, client_for, django_capture_on_commit_callbacks) -> None:
    from django_q.models import OrmQ

    from wrapup_portal.catalog.models import SyncRun

    client = client_for(admin_user)
    client.cookies[settings.SESSION_COOKIE_NAME] = "expired-or-forged-session"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/catalog/sync/")
    # Back to sign in; not to come back to /catalog/sync/, which answers a GET with 405.
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert not SyncRun.objects.exists() and not OrmQ.objects.exists()


def test_expired_session_post_returns_to_the_page_of_the_form_after_sign_in(admin_user, client: Client) -> None:
    response = client.post("/catalog/sync/", headers={"Referer": "http://testserver/catalog/?q=bill"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/catalog/%3Fq%3Dbill"
    signed_in = client.post(response["Location"], {"username": "admin", "password": PASSWORD, "next": "/catalog/?q=bill"})
    assert signed_in["Location"] == "/catalog/?q=bill"
    assert client.get(signed_in["Location"]).status_code == 200


def test_expired_session_post_ignores_a_referer_from_another_site(client: Client) -> None:
    response = client.post("/catalog/sync/", headers={"Referer": "https://evil.example/catalog/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_expired_session_get_still_returns_to_that_page(client: Client) -> None:
    response = client.get("/catalog/runs/?page=2")
    assert response["Location"] == "/accounts/login/?next=/catalog/runs/%3Fpage%3D2"


def test_expired_session_during_an_htmx_poll_reloads_the_page_to_sign_in(client: Client) -> None:
    response = client.get("/catalog/runs/1/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/accounts/login/?next=/catalog/runs/1/")
    assert response.content == b""
