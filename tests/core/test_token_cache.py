"""The cached Genesys access token is encrypted in the shared cache table: a database dump alone
does not hand it out, and a key that changed reads as "no token" instead of failing."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import connection

from integrations.genesys import AccessToken, GenesysClient
from wrapup_portal.core.genesys import CacheTokenCache, token_key

pytestmark = [pytest.mark.database_cache, pytest.mark.django_db]

TOKEN = "tok-6a1f0c9e-distinctive-access-token-value"


def raw_cache_rows() -> str:
    """Every column of every row of the cache table, as the text a dump would hold."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key, value, expires FROM portal_cache")
        return "\n".join(" ".join(str(column) for column in row) for row in cursor.fetchall())


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    from django.core.cache import cache

    cache.clear()


def test_the_cache_table_row_does_not_hold_the_token() -> None:
    shared = CacheTokenCache("genesys:token:test")
    shared.set(AccessToken(TOKEN, time.time() + 600))
    rows = raw_cache_rows()
    assert "genesys:token:test" in rows  # the row is there…
    assert TOKEN not in rows  # …but not the token, in any column
    assert shared.get() == AccessToken(TOKEN, pytest.approx(time.time() + 600, abs=5))


def test_a_different_key_reads_as_no_token(settings: Any) -> None:
    settings.PORTAL_TOKEN_KEY = "key-one-" + "a" * 40
    CacheTokenCache("genesys:token:test").set(AccessToken(TOKEN, time.time() + 600))
    settings.PORTAL_TOKEN_KEY = "key-two-" + "b" * 40
    assert CacheTokenCache("genesys:token:test").get() is None


def test_without_a_token_key_the_secret_key_derives_it(settings: Any) -> None:
    settings.PORTAL_TOKEN_KEY = ""
    from_secret = token_key()
    settings.SECRET_KEY = "another-secret-key-" + "c" * 40
    assert token_key() != from_secret
    settings.PORTAL_TOKEN_KEY = "explicit-" + "d" * 40
    assert token_key() not in (from_secret, settings.SECRET_KEY.encode())


def test_a_row_under_another_cache_key_does_not_decrypt() -> None:
    from django.core.cache import cache

    CacheTokenCache("genesys:token:one").set(AccessToken(TOKEN, time.time() + 600))
    cache.set("genesys:token:two", cache.get("genesys:token:one"), 600)
    assert CacheTokenCache("genesys:token:two").get() is None


def test_a_tampered_or_old_plain_row_reads_as_no_token() -> None:
    from django.core.cache import cache

    cache.set("genesys:token:plain", {"value": TOKEN, "expires_at": time.time() + 600}, 600)  # before encryption
    assert CacheTokenCache("genesys:token:plain").get() is None
    cache.set("genesys:token:junk", {"format": "aesgcm1", "sealed": "not base64!"}, 600)
    assert CacheTokenCache("genesys:token:junk").get() is None


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_after_a_key_change_the_client_fetches_a_new_token(settings: Any, sandbox: Any) -> None:
    def client() -> GenesysClient:
        return GenesysClient(client_id=sandbox.client_id, client_secret=sandbox.client_secret, api_url=sandbox.url,
                             login_url=sandbox.login_url, token_cache=CacheTokenCache("genesys:token:rotate"))

    settings.PORTAL_TOKEN_KEY = "before-rotation-" + "e" * 40
    client().token_info()
    client().token_info()
    assert sandbox.stats()["tokens_issued"] == 1  # the second process used the cached token
    settings.PORTAL_TOKEN_KEY = "after-rotation-" + "f" * 40
    client().token_info()  # no crash: the old row reads as absent
    assert sandbox.stats()["tokens_issued"] == 2
