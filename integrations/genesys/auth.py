"""The client-credentials token: one per client, shared by threads, renewed before it expires.

Client credentials get no refresh token (docs/genesys-api.md §1): the client fetches a new token at
~90 % of ``expires_in``, and once after a 401. ``TokenCache`` lets the processes of one
deployment share the token as well (the portal keeps it in its cache), so they also share one
quota bucket and can pace together.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

RENEW_AT = 0.9  # fraction of expires_in after which a token is replaced


@dataclass(frozen=True)
class AccessToken:
    """A bearer token; ``repr`` never shows it."""

    value: str = field(repr=False)
    expires_at: float  # when to stop using it (already shortened to RENEW_AT of the lifetime)

    @property
    def fingerprint(self) -> str:
        """A short, loggable id of the token (its quota bucket), never the token itself."""
        return hashlib.sha256(self.value.encode()).hexdigest()[:16]

    def valid_at(self, now: float) -> bool:
        return now < self.expires_at


class TokenCache(Protocol):
    """Somewhere several clients (processes) share the current token."""

    def get(self) -> AccessToken | None:
        """The shared token, if any."""

    def set(self, token: AccessToken | None) -> None:
        """Replace the shared token (None: forget it)."""


class TokenManager:
    """Hands out the current token; fetches a new one when it is due or was refused."""

    def __init__(
        self,
        fetch: Callable[[], tuple[str, float]],
        *,
        clock: Callable[[], float],
        cache: TokenCache | None = None,
    ) -> None:
        self._fetch = fetch  # → (access_token, expires_in seconds)
        self._clock = clock
        self._cache = cache
        self._lock = threading.Lock()
        self._token: AccessToken | None = None
        self.fetches = 0

    def get(self, fetch: Callable[[], tuple[str, float]] | None = None) -> AccessToken:
        """A valid token; only one thread fetches while the others wait for it.

        `fetch` overrides the fetch function for this call (a client clone with another
        retry policy shares the token but fetches it under its own policy).
        """
        now = self._clock()
        token = self._token
        if token is not None and token.valid_at(now):
            return token
        with self._lock:
            now = self._clock()
            if self._token is not None and self._token.valid_at(now):
                return self._token
            shared = self._cache.get() if self._cache else None
            if shared is not None and shared.valid_at(now):
                self._token = shared
                return shared
            value, expires_in = (fetch or self._fetch)()
            self.fetches += 1
            self._token = AccessToken(value, self._clock() + max(expires_in, 1.0) * RENEW_AT)
            if self._cache:
                self._cache.set(self._token)
            return self._token

    def invalidate(self, token: AccessToken) -> None:
        """Genesys refused ``token``: drop it, unless another thread already replaced it."""
        with self._lock:
            if self._token == token:
                self._token = None
            if self._cache and self._cache.get() == token:
                self._cache.set(None)
