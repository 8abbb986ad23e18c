"""HTTP to Genesys Cloud: authentication, timeouts, retries and pacing in one place (STYLE rule 9).

Reads (GET, the analytics query POST) and the token request are retried on 429 (after
``Retry-After``, else ``inin-ratelimit-reset``, else 3 s), 408/500/502/503/504 and network
errors, with capped exponential backoff and jitter. Writes are never re-sent: a timeout after a
write was sent surfaces as ``OutcomeUnknownError`` and the caller reads back. Any request gets
one new token and one more try after a 401 (a 401 means it was not acted upon).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from .auth import TokenCache, TokenManager
from .errors import (
    CORRELATION_HEADER,
    BadClientCredentialsError,
    GenesysConfigurationError,
    GenesysConnectionError,
    GenesysError,
    InvalidResponseError,
    OutcomeUnknownError,
    RateLimitedError,
    error_from_response,
)
from .pacing import InProcessPacer, Pacer, RateLimitSnapshot

logger = logging.getLogger("integrations.genesys")

USER_AGENT = "wrapup-portal-genesys-client/1.0"


@dataclass(frozen=True)
class RetryPolicy:
    """How reads are retried; ``max_attempts`` counts the first try."""

    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    default_retry_after: float = 3.0
    max_retry_after: float = 120.0
    retry_statuses: frozenset[int] = frozenset({408, 429, 500, 502, 503, 504})


@dataclass
class ClientStats:
    """Counters for reports and tests (thread-safe through ``add``)."""

    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    reauthentications: int = 0
    token_requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)


def masked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers safe to log: credentials replaced by ``***``."""
    return {k: ("***" if k.lower() in ("authorization", "cookie", "set-cookie") else v) for k, v in headers.items()}


def _normalise_timeout(timeout: float | tuple[float, float]) -> tuple[float, float]:
    if isinstance(timeout, tuple):
        return float(timeout[0]), float(timeout[1])
    # Connecting should be quick even when an answer may take a while.
    return min(float(timeout), 5.0), float(timeout)


def _was_not_sent(exc: requests.RequestException) -> bool:
    """True when the request certainly never reached the server (refused, DNS, connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    text = repr(exc)
    return isinstance(exc, requests.ConnectionError) and any(
        marker in text for marker in ("NewConnectionError", "NameResolutionError", "Connection refused", "Failed to resolve")
    )


class Transport:
    """Sends one logical request, with everything rule 9 asks for."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        api_url: str,
        login_url: str,
        timeout: float | tuple[float, float],
        session: requests.Session | None,
        pacer: Pacer | None,
        retry: RetryPolicy | None,
        token_cache: TokenCache | None,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        rng: Callable[[], float],
    ) -> None:
        for name, url in (("api_url", api_url), ("login_url", login_url)):
            parts = urlsplit(url or "")
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise GenesysConfigurationError(f"{name} must be an http(s) URL, got {str(url)[:80]!r}.")
        if not client_id or not client_secret:
            raise GenesysConfigurationError("A client id and a client secret are required.")
        self.api_url = api_url.rstrip("/")
        self.login_url = login_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self.timeout = _normalise_timeout(timeout)
        self.session = session or requests.Session()
        self.clock, self.sleep, self.rng = clock, sleep, rng
        self.pacer: Pacer = pacer or InProcessPacer(clock=clock, sleep=sleep)
        self.retry = retry or RetryPolicy()
        self.stats = ClientStats()
        self.tokens = TokenManager(self._fetch_token, clock=clock, cache=token_cache)

    # --- helpers ---------------------------------------------------------------------------
    def _secrets(self) -> tuple[str, ...]:
        token = self.tokens._token  # noqa: SLF001 - redact the live token from any message
        return (self._client_secret, token.value if token else "")

    def _delay(self, attempt: int, error: GenesysError) -> float:
        """Seconds before the next attempt: what a 429 asked for, else capped backoff with jitter."""
        if isinstance(error, RateLimitedError):
            wait = error.retry_after if error.retry_after is not None else self.retry.default_retry_after
            # A little jitter so threads released together do not hit the new window at once.
            return min(wait, self.retry.max_retry_after) + self.rng() * 0.1
        ceiling = min(self.retry.backoff_cap, self.retry.backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + self.rng() * ceiling / 2

    def _may_retry(self, error: GenesysError, attempt: int) -> bool:
        if attempt >= self.retry.max_attempts:
            return False
        if isinstance(error, GenesysConnectionError):
            return True
        return error.status in self.retry.retry_statuses

    def _network_error(self, exc: requests.RequestException, method: str, path: str, *, write: bool) -> GenesysError:
        host = urlsplit(self.api_url if path.startswith("/api") else self.login_url).netloc
        kind = "timed out" if isinstance(exc, requests.Timeout) else "failed"
        if write and not _was_not_sent(exc):
            return OutcomeUnknownError(
                f"{method} {path} {kind} after it was sent to {host} ({type(exc).__name__}); "
                "it may or may not have been applied: read the state back before trying again"
            )
        return GenesysConnectionError(f"{method} {path} to {host} {kind} ({type(exc).__name__})")

    # --- the token -------------------------------------------------------------------------
    def _fetch_token(self) -> tuple[str, float]:
        """POST /oauth/token with client credentials; retried like a read, never on refusal."""
        url = f"{self.login_url}/oauth/token"
        attempt = 0
        while True:
            attempt += 1
            self.stats.add(requests=1, token_requests=1)
            try:
                resp = self.session.post(
                    url,
                    data={"grant_type": "client_credentials"},
                    auth=(self._client_id, self._client_secret),
                    headers={"Accept": "application/json", "User-Agent": USER_AGENT},
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                error: GenesysError = self._network_error(exc, "POST", "/oauth/token", write=False)
            else:
                if 200 <= resp.status_code < 300:
                    return self._parse_token(resp)
                error = error_from_response(resp, secrets=(self._client_secret,))
                if resp.status_code in (400, 401, 403):
                    raise BadClientCredentialsError(
                        f"Genesys Cloud refused the client credentials of client {self._client_id[:40]!r}: {error.message}",
                        status=error.status, code=error.code, correlation_id=error.correlation_id, body=error.body,
                    )  # fmt: skip
            if not self._may_retry(error, attempt):
                raise error
            self.stats.add(retries=1, rate_limited=int(isinstance(error, RateLimitedError)))
            self.sleep(self._delay(attempt, error))

    def _parse_token(self, resp: requests.Response) -> tuple[str, float]:
        try:
            data = resp.json()
            value, expires_in = data["access_token"], float(data.get("expires_in") or 86400)
        except (ValueError, KeyError, TypeError):
            raise InvalidResponseError("The token endpoint answered without an access token.", status=resp.status_code) from None
        if not isinstance(value, str) or not value:
            raise InvalidResponseError("The token endpoint answered without an access token.", status=resp.status_code)
        return value, expires_in

    # --- API requests ----------------------------------------------------------------------
    def request(
        self, method: str, path: str, *, params: Mapping[str, Any] | None = None, body: Any = None, retry: bool = True
    ) -> requests.Response:
        """Send ``method path``; returns the 2xx answer or raises the typed error.

        ``retry=False`` marks a write: never re-sent, except once with a new token after a 401.
        """
        url = f"{self.api_url}{path}"  # always our own host: the bearer token never goes elsewhere
        attempt, reauthenticated = 0, False
        while True:
            attempt += 1
            token = self.tokens.get(self._fetch_token)
            epoch = self.pacer.acquire(token.fingerprint)
            headers = {"Authorization": f"Bearer {token.value}", "Accept": "application/json", "User-Agent": USER_AGENT}
            logger.debug("→ %s %s attempt %d headers=%s", method, path, attempt, masked_headers(headers))
            sent_at = self.clock()
            self.stats.add(requests=1)
            try:
                resp = self.session.request(
                    method, url, params=params, json=body, headers=headers, timeout=self.timeout, allow_redirects=False
                )
            except requests.RequestException as exc:
                error = self._network_error(exc, method, path, write=not retry)
                if not retry or not self._may_retry(error, attempt):
                    logger.warning("%s %s: %s", method, path, error)
                    raise error from None
                self._before_retry(method, path, attempt, error)
                continue
            received_at = self.clock()
            snapshot = RateLimitSnapshot.from_headers(resp.status_code, resp.headers, sent_at=sent_at, received_at=received_at)
            self.pacer.observe(token.fingerprint, epoch, snapshot)
            correlation = resp.headers.get(CORRELATION_HEADER)
            logger.debug("← %s %s %d in %.0f ms, correlation id %s", method, path, resp.status_code,
                         (received_at - sent_at) * 1000, correlation)  # fmt: skip
            if 200 <= resp.status_code < 300:
                return resp
            if resp.status_code == 401 and not reauthenticated:
                # The token expired early or was revoked: one new token, one more try.
                reauthenticated = True
                attempt -= 1
                self.stats.add(reauthentications=1)
                self.tokens.invalidate(token)
                continue
            error = error_from_response(resp, secrets=self._secrets())
            if resp.status_code == 429:
                self.stats.add(rate_limited=1)
            if not retry or not self._may_retry(error, attempt):
                logger.warning("%s %s: %s", method, path, error)
                raise error
            self._before_retry(method, path, attempt, error)

    def _before_retry(self, method: str, path: str, attempt: int, error: GenesysError) -> None:
        delay = self._delay(attempt, error)
        logger.info("%s %s: %s; attempt %d again in %.2f s", method, path, error, attempt + 1, delay)
        self.stats.add(retries=1)
        self.sleep(delay)

    def parse_json(self, resp: requests.Response, *, allow_empty: bool = False) -> Any:
        """The answer's JSON; a non-JSON 2xx (a proxy's HTML page) is an ``InvalidResponseError``."""
        if not resp.content or not resp.content.strip():
            if allow_empty:
                return None
            raise InvalidResponseError("Genesys Cloud answered with an empty body.", status=resp.status_code,
                                       correlation_id=resp.headers.get(CORRELATION_HEADER))  # fmt: skip
        try:
            return resp.json()
        except ValueError:
            fake = error_from_response(resp)
            raise InvalidResponseError(
                f"Expected JSON from Genesys Cloud, got a {fake.message.split(': ', 1)[-1]}",
                status=resp.status_code, correlation_id=resp.headers.get(CORRELATION_HEADER),
            ) from None  # fmt: skip


def default_rng() -> float:
    """Jitter source (injectable for tests)."""
    return random.random()


def default_clock() -> float:
    """Wall-clock seconds: comparable across processes, which the shared pacer needs."""
    return time.time()


__all__ = ["ClientStats", "RetryPolicy", "Transport", "default_clock", "default_rng", "masked_headers"]
