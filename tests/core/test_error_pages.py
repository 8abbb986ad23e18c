"""Friendly error pages instead of stack traces."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.core import urls_boom

pytestmark = pytest.mark.django_db


def test_unknown_page_is_a_friendly_404(lead, client_for) -> None:
    response = client_for(lead).get("/no-such-page/")
    assert response.status_code == 404
    assert b"Not found" in response.content
    assert b"Traceback" not in response.content


def test_forbidden_page_is_a_friendly_403_with_navigation(lead, client_for) -> None:
    response = client_for(lead).get("/system/")
    assert response.status_code == 403
    assert b"Not allowed" in response.content
    assert b"Sign out" in response.content


@pytest.mark.urls("tests.core.urls_boom")
def test_crash_is_a_friendly_500_with_a_reference(lead) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(lead)
    response = client.get(urls_boom.BOOM_PATH, headers={"X-Request-ID": "req-12345678"})
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    assert "req-12345678" in body
    assert urls_boom.SECRET_IN_ERROR not in body


def test_form_without_csrf_token_gets_the_portals_expired_form_page(admin_user) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    response = client.post("/catalog/sync/", headers={"Referer": "http://testserver/catalog/"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "This form had expired" in body
    assert 'href="/catalog/"' in body and "Reload the page" in body
    assert "Sign out" in body  # the portal's layout, with its navigation
    assert "CSRF verification failed" not in body
    from wrapup_portal.catalog.models import SyncRun

    assert not SyncRun.objects.exists()


def test_expired_form_page_reloads_the_overview_without_a_usable_referer(lead) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(lead)
    response = client.post("/accounts/logout/", headers={"Referer": "https://evil.example/"})
    assert response.status_code == 403
    assert 'href="/"' in response.content.decode()
    assert client.get("/").status_code == 200  # still signed in: nothing was done


def test_expired_form_is_audited_as_a_refusal(lead) -> None:
    from wrapup_portal.audit.models import Action, AuditEvent

    client = Client(enforce_csrf_checks=True)
    client.force_login(lead)
    client.post("/accounts/logout/")
    event = AuditEvent.objects.filter(action=Action.PERMISSION_DENIED).get()
    assert (event.actor_username, event.outcome, event.target_id) == ("lead", "csrf_failed", "/accounts/logout/")
    assert "CSRF" in event.reason
