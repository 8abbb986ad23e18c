"""HTTP to Genesys Cloud: authentication, timeouts, retries and pacing in one place (STYLE rule 9).

Whether a failed attempt is sent again is decided in one place, ``Transport._may_resend``:

* a request Genesys certainly did not act on may always be re-sent, whatever its method: a
  429 (after the wait ``retry_after_seconds`` works out: ``Retry-After``, else
  ``inin-ratelimit-reset``, else 3 s), or a connection that failed before anything was sent
  (refused, DNS, connect timeout);
* idempotent requests (GET and the like, the analytics query, the token request) are also
  re-sent on 408/500/502/503/504 and on any network error, with capped exponential backoff
  and jitter;
* a write (PATCH, POST) whose outcome is unknown, a 5xx or a timeout or dropped connection
  after it was sent, is never re-sent blindly: it surfaces (``ServerError``,
  ``OutcomeUnknownError``) and the caller reads the state back.

Every request, a write too, gets one new token and one more try after a 401 (a 401 means it
was not acted upon). ``RetryPolicy.max_attempts`` and ``max_retry_after`` bound all of it.
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
from .pacing import DEFAULT_RETRY_AFTER, MAX_RETRY_AFTER, InProcessPacer, Pacer, RateLimitSnapshot, retry_after_seconds

logger = logging.getLogger("integrations.genesys")

USER_AGENT = "wrapup-portal-genesys-client/1.0"
# RFC 9110 §9.2.2: sending these twice has the effect of sending them once.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    """How failed attempts are sent again; ``max_attempts`` counts the first try.

    ``retry_statuses`` are re-sent for idempotent requests; of them only 429 for writes.
    ``default_retry_after`` and ``max_retry_after`` feed ``retry_after_seconds``.
    """

    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    default_retry_after: float = DEFAULT_RETRY_AFTER
    max_retry_after: float = MAX_RETRY_AFTER
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

    def _retry_after(self, resp: requests.Response, received_at: float) -> float | None:
        """For a 429, the seconds to wait before sending it again (under this policy); else None."""
        if resp.status_code != 429:
            return None
        return retry_after_seconds(
            resp.headers, now=received_at, default=self.retry.default_retry_after, cap=self.retry.max_retry_after
        )

    def _delay(self, attempt: int, error: GenesysError) -> float:
        """Seconds before the next attempt: what a 429 asked for, else capped backoff with jitter."""
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            # A little jitter so threads released together do not hit the new window at once.
            return error.retry_after + self.rng() * 0.1
        ceiling = min(self.retry.backoff_cap, self.retry.backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + self.rng() * ceiling / 2

    def _may_resend(self, error: GenesysError, attempt: int, *, idempotent: bool) -> bool:
        """May this failed attempt be sent again? The one place that decides, for every request.

        Only what Genesys certainly did not apply is re-sent when the request is not idempotent:
        a 429, or a connection that failed before anything was sent (``_network_error`` keeps
        ``OutcomeUnknownError`` for those that may have been sent). A 5xx or an unknown outcome
        surfaces so the caller can read the state back instead of writing twice.
        """
        if attempt >= self.retry.max_attempts:
            return False
        if isinstance(error, GenesysConnectionError):
            return idempotent or not isinstance(error, OutcomeUnknownError)
        if error.status not in self.retry.retry_statuses:
            return False
        return idempotent or error.status == 429

    def _network_error(self, exc: requests.RequestException, method: str, path: str, *, idempotent: bool) -> GenesysError:
        host = urlsplit(self.api_url if path.startswith("/api") else self.login_url).netloc
        kind = "timed out" if isinstance(exc, requests.Timeout) else "failed"
        if not idempotent and not _was_not_sent(exc):
            return OutcomeUnknownError(
                f"{method} {path} {kind} after it was sent to {host} ({type(exc).__name__}); "
                "it may or may not have been applied: read the state back before trying again"
            )
        return GenesysConnectionError(f"{method} {path} to {host} {kind} ({type(exc).__name__})")

    # --- the token -------------------------------------------------------------------------
    def _fetch_token(self) -> tuple[str, float]:
        """POST /oauth/token with client credentials; re-sent like a read (it is idempotent), never on refusal."""
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
                error: GenesysError = self._network_error(exc, "POST", "/oauth/token", idempotent=True)
            else:
                if 200 <= resp.status_code < 300:
                    return self._parse_token(resp)
                retry_after = self._retry_after(resp, self.clock())
                error = error_from_response(resp, secrets=(self._client_secret,), retry_after=retry_after)
                if resp.status_code in (400, 401, 403):
                    raise BadClientCredentialsError(
                        f"Genesys Cloud refused the client credentials of client {self._client_id[:40]!r}: {error.message}",
                        status=error.status, code=error.code, correlation_id=error.correlation_id, body=error.body,
                    )  # fmt: skip
            if not self._may_resend(error, attempt, idempotent=True):
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
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        idempotent: bool | None = None,
    ) -> requests.Response:
        """Send ``method path``; returns the 2xx answer or raises the typed error.

        ``idempotent`` defaults from the method (GET, PUT, DELETE… yes; POST, PATCH no); pass
        True for a POST that only reads (the analytics query). What is re-sent: ``_may_resend``.
        """
        if idempotent is None:
            idempotent = method.upper() in IDEMPOTENT_METHODS
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
                error = self._network_error(exc, method, path, idempotent=idempotent)
                if not self._may_resend(error, attempt, idempotent=idempotent):
                    logger.warning("%s %s: %s", method, path, error)
                    raise error from None
                self._before_retry(method, path, attempt, error)
                continue
            received_at = self.clock()
            retry_after = self._retry_after(resp, received_at)  # one wait for the pacer and for us
            snapshot = RateLimitSnapshot.from_headers(resp.status_code, resp.headers, sent_at=sent_at,
                                                      received_at=received_at, retry_after=retry_after)  # fmt: skip
            self.pacer.observe(token.fingerprint, epoch, snapshot)
            correlation = resp.headers.get(CORRELATION_HEADER)
            logger.debug("← %s %s %d in %.0f ms, correlation id %s", method, path, resp.status_code,
                         (received_at - sent_at) * 1000, correlation)  # fmt: skip
            if 200 <= resp.status_code < 300:
                return resp
            if resp.status_code == 401 and not reauthenticated:
                # The token expired early or was revoked: one new token, one more try (a write
                # too: a 401 was not acted upon).
                reauthenticated = True
                attempt -= 1
                self.stats.add(reauthentications=1)
                self.tokens.invalidate(token)
                continue
            error = error_from_response(resp, secrets=self._secrets(), retry_after=retry_after)
            if resp.status_code == 429:
                self.stats.add(rate_limited=1)
            if not self._may_resend(error, attempt, idempotent=idempotent):
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
