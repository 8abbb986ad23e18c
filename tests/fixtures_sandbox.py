"""Pytest fixtures for the Genesys sandbox (registered by the root conftest via ``pytest_plugins``).

``sandbox_server``: one in-process sandbox per test session, on two free ports (API and
login host, as Genesys has), no live traffic (the simulated clock moves only when a test
moves it), fixed seed.
``sandbox``: per test; resets knobs, request log, counters and quotas before and after,
and returns a ``SandboxHelper`` that speaks to it over real HTTP with ``requests``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from integrations.genesys_sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, OrgSpec, SandboxServer

SANDBOX_SEED = 4242
SANDBOX_ORG = OrgSpec(queues=8, codes=40, agents=30, days=21, conversations=1500)


class SandboxHelper:
    """Control of a running sandbox, plus a few conveniences for API calls."""

    def __init__(self, url: str, login_url: str) -> None:
        self.url = url  # the API host (and the /__sandbox control endpoint)
        self.login_url = login_url  # the login host: /oauth/* only
        self.client_id = DEMO_CLIENT_ID
        self.client_secret = DEMO_CLIENT_SECRET
        self.http = requests.Session()

    # -- control endpoint -------------------------------------------------------------
    def _control(self, method: str, path: str, json: Any = None) -> Any:
        response = self.http.request(method, f"{self.url}/__sandbox/{path}", json=json, timeout=10)
        response.raise_for_status()
        return response.json()

    def reset(self, *, state: bool = False) -> None:
        """Knobs to defaults; request log, counters, quotas and events cleared."""
        self._control("POST", "reset", {"state": state})

    def configure(self, **knobs: Any) -> dict[str, Any]:
        """Change knobs; returns all of them."""
        return self._control("POST", "config", knobs)

    def config(self) -> dict[str, Any]:
        """Current knobs."""
        return self._control("GET", "config")

    def stats(self) -> dict[str, Any]:
        """Counters: requests, rate_limited, injected_errors, dropped, tokens_issued, writes…"""
        return self._control("GET", "stats")

    def requests(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The API request log, oldest first."""
        return self._control("GET", f"requests?limit={limit}" if limit else "requests")

    def events(self) -> list[dict[str, Any]]:
        """Emitted conversation events with their webhook delivery status."""
        return self._control("GET", "events")

    def org(self) -> dict[str, Any]:
        """Ids of divisions, queues (with codeIds, memberIds, prompt), codes and agents."""
        return self._control("GET", "org")

    def create_conversation(self, **spec: Any) -> dict[str, Any]:
        """A conversation in a chosen state (queueId, mediaType, agents, state, wrapupCode…)."""
        return self._control("POST", "conversations", spec)

    def advance(self, conversation_id: str, **spec: Any) -> dict[str, Any]:
        """Move a conversation on (participantId, to=acw|wrapped|timeout|skip|ended, wrapupCode)."""
        return self._control("POST", f"conversations/{conversation_id}/advance", spec)

    def clock(self, advance_seconds: float = 0) -> dict[str, Any]:
        """Advance the simulated clock (timers that fall due run) and return it."""
        return self._control("POST", "clock", {"advance_seconds": advance_seconds})

    def agent_token(self, user_id: str) -> str:
        """An agent's own bearer token (skips the emulated browser sign-in)."""
        return self._control("POST", "tokens", {"userId": user_id})["access_token"]

    # -- API conveniences -------------------------------------------------------------
    def token(self) -> str:
        """A fresh client-credentials token."""
        response = requests.post(f"{self.login_url}/oauth/token", auth=(self.client_id, self.client_secret),
                                 data={"grant_type": "client_credentials"}, timeout=10)
        response.raise_for_status()
        return response.json()["access_token"]

    def api(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> requests.Response:
        """Call the API with a bearer token (a new client-credentials one unless given)."""
        headers = dict(kwargs.pop("headers", {}) or {})
        headers.setdefault("Authorization", f"Bearer {token or self.token()}")
        return self.http.request(method, f"{self.url}{path}", headers=headers, timeout=10, **kwargs)


def served_sandbox(*, seed: int = SANDBOX_SEED, org: OrgSpec = SANDBOX_ORG) -> Iterator[SandboxServer]:
    """A sandbox on free ports without live traffic, for a fixture to ``yield from``; stopped after."""
    server = SandboxServer(host="127.0.0.1", port=0, seed=seed, live=False, org=org)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def clean_helper(server: SandboxServer) -> Iterator[SandboxHelper]:
    """A helper on ``server`` with knobs, log, counters and quotas reset before and after (the org is kept)."""
    helper = SandboxHelper(server.url, server.login_url)
    helper.reset()
    yield helper
    helper.reset()


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """One sandbox for the session: free ports, fixed seed, no live traffic."""
    yield from served_sandbox()


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> Iterator[SandboxHelper]:
    """A clean sandbox for one test (knobs, log, counters, quotas reset; the org is kept)."""
    yield from clean_helper(sandbox_server)
