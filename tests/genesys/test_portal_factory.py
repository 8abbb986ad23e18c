"""The portal's factory and the cache-backed pieces that let processes share a token and a quota."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.core.cache import cache

from integrations.genesys import AccessToken, GenesysClient, GenesysConfigurationError
from integrations.genesys.pacing import PacingState, RateLimitSnapshot
from wrapup_portal.core.genesys import (
    CachePacer,
    CacheTokenCache,
    build_genesys_client,
    get_genesys_client,
    reset_genesys_client,
)


@pytest.fixture(autouse=True)
def _fresh(db: Any) -> Any:
    cache.clear()
    reset_genesys_client()
    yield
    reset_genesys_client()


def test_factory_reads_settings_and_reuses_one_client(settings: Any) -> None:
    settings.GENESYS_API_URL = "https://api.mypurecloud.ie"
    settings.GENESYS_LOGIN_URL = "https://login.mypurecloud.ie"
    settings.GENESYS_CLIENT_ID, settings.GENESYS_CLIENT_SECRET = "client-id", "client-secret"
    settings.GENESYS_TIMEOUT_SECONDS = 4
    client = get_genesys_client()
    assert isinstance(client, GenesysClient) and client is get_genesys_client()
    assert client.api_url == "https://api.mypurecloud.ie" and client._http.timeout == (4.0, 4.0)
    assert isinstance(client.pacer, CachePacer)
    settings.GENESYS_API_URL = "https://api.mypurecloud.de"  # a settings change gives a new client
    assert get_genesys_client().api_url == "https://api.mypurecloud.de"


def test_factory_without_genesys_settings_names_what_to_set(settings: Any) -> None:
    # What a production deployment without any GENESYS_* variable has: no default org at all.
    settings.GENESYS_API_URL = settings.GENESYS_LOGIN_URL = ""
    settings.GENESYS_CLIENT_ID = settings.GENESYS_CLIENT_SECRET = ""
    with pytest.raises(GenesysConfigurationError) as caught:
        get_genesys_client()
    assert str(caught.value) == (
        "Genesys not configured: set GENESYS_REGION (or GENESYS_API_URL) and GENESYS_CLIENT_ID/GENESYS_CLIENT_SECRET"
    )


def test_factory_with_a_url_but_no_credentials_names_the_missing_ones(settings: Any) -> None:
    settings.GENESYS_API_URL, settings.GENESYS_LOGIN_URL = "https://api.mypurecloud.ie", "https://login.mypurecloud.ie"
    settings.GENESYS_CLIENT_ID, settings.GENESYS_CLIENT_SECRET = "client-id", ""
    with pytest.raises(GenesysConfigurationError, match=r"^Genesys not configured: set GENESYS_CLIENT_SECRET$"):
        build_genesys_client()


def test_token_cache_round_trip_and_forget() -> None:
    shared = CacheTokenCache("genesys:token:test")
    assert shared.get() is None
    token = AccessToken("value", time.time() + 60)
    shared.set(token)
    assert shared.get() == token
    shared.set(None)
    assert shared.get() is None


def test_cache_pacer_state_is_shared_between_instances() -> None:
    one, two = CachePacer(), CachePacer()  # as in two processes: they share only the cache
    now = time.time()
    one.observe("bucket", 0, RateLimitSnapshot(200, 50, 50, 30, None, sent_at=now, received_at=now))
    state = two.state("bucket")
    assert isinstance(state, PacingState) and state.allowed == 50 and state.count == 50
    assert state.window_end == pytest.approx(now + 30)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_processes_share_the_token_and_the_quota(sandbox: Any) -> None:
    """Two clients that share nothing but the cache (as two worker processes would)."""
    sandbox.configure(rate_limit=40, rate_window_seconds=2)

    def worker_client() -> GenesysClient:
        return GenesysClient(client_id=sandbox.client_id, client_secret=sandbox.client_secret, api_url=sandbox.url,
                             login_url=sandbox.login_url, pacer=CachePacer(), token_cache=CacheTokenCache("genesys:token:t"))  # fmt: skip

    first, second = worker_client(), worker_client()
    first.token_info()
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: (first if i % 2 else second).organization(), range(100)))
    elapsed = time.monotonic() - started
    assert sandbox.stats()["tokens_issued"] == 1  # one token, so one quota bucket
    assert sandbox.stats()["rate_limited"] <= 1
    assert elapsed >= 2 * 2 - 0.5  # 101 calls at 40 per 2 s need the third window


def test_cache_pacer_falls_back_to_memory_when_the_cache_fails(monkeypatch: Any) -> None:
    from django.db import DatabaseError

    class BrokenCache:
        def __getattr__(self, name: str) -> Any:
            def broken(*args: Any, **kwargs: Any) -> Any:
                raise DatabaseError("no such table: portal_cache")

            return broken

    monkeypatch.setattr("wrapup_portal.core.genesys.cache", BrokenCache())
    pacer = CachePacer()
    now = time.time()
    pacer.observe("b", 0, RateLimitSnapshot(200, 5, 5, 30, None, sent_at=now, received_at=now))
    assert pacer.state("b").count == 5  # still paced, from memory
