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
