"""OAuth tokens (client credentials and emulated agent sign-ins) and the per-token quota."""

from __future__ import annotations

import base64
import hashlib
import math
import secrets
import threading
from dataclasses import dataclass

DEMO_CLIENT_ID = "wrapup-portal-demo"
DEMO_CLIENT_SECRET = "wrapup-portal-demo-secret"
DEMO_CLIENT_UUID = "c0ffee00-1234-4abc-9def-0123456789ab"  # the OAuth client's own id in tokens/me
SCOPES = ["analytics:readonly", "conversations", "routing:readonly"]
PRUNE_FLOOR = 1024  # tokens or quota windows held before expired ones are first dropped


@dataclass
class Token:
    """An issued access token. ``user_id`` is set for agent sign-ins only."""

    value: str
    id: str  # short, loggable id: never the token itself
    client_id: str
    issued: float
    expires: float
    user_id: str | None = None

    @property
    def grant(self) -> str:
        """``client_credentials`` or ``user``."""
        return "user" if self.user_id else "client_credentials"


@dataclass
class AuthCode:
    """An authorization code awaiting exchange (PKCE or confidential client)."""

    user_id: str
    client_id: str
    redirect_uri: str
    challenge: str | None
    method: str
    expires: float


class TokenStore:
    """Issues and checks tokens; thread-safe."""

    def __init__(self, client_secret: str = DEMO_CLIENT_SECRET) -> None:
        self.client_secret = client_secret  # the demo pair's secret unless a test chose its own
        self._lock = threading.Lock()
        self._tokens: dict[str, Token] = {}
        self._codes: dict[str, AuthCode] = {}
        self._refresh: dict[str, tuple[str, str]] = {}  # refresh token → (client id, user id)
        self._prune_at = PRUNE_FLOOR

    def check_client(self, client_id: str | None, secret: str | None) -> bool:
        """True for the demo client pair (compared in constant time)."""
        return secrets.compare_digest(client_id or "", DEMO_CLIENT_ID) and secrets.compare_digest(
            secret or "", self.client_secret)

    def issued_values(self) -> list[str]:
        """Every live token's value (tests look for them where they must not be)."""
        with self._lock:
            return list(self._tokens)

    def issue(self, client_id: str, now: float, lifetime: int, user_id: str | None = None) -> Token:
        """A new bearer token valid for ``lifetime`` seconds."""
        value = secrets.token_urlsafe(32)
        token = Token(value, hashlib.sha256(value.encode()).hexdigest()[:12], client_id, now, now + lifetime, user_id)
        with self._lock:
            self._tokens[value] = token
            if len(self._tokens) >= self._prune_at:
                # Expired tokens answer 401 bad.credentials exactly as unknown ones do, so they can
                # go; pruning at doubling sizes keeps it cheap however many tokens a client asks for.
                self._tokens = {v: t for v, t in self._tokens.items() if t.expires > now}
                self._prune_at = max(PRUNE_FLOOR, 2 * len(self._tokens))
        return token

    def lookup(self, value: str) -> Token | None:
        """The token, expired or not; None when unknown."""
        with self._lock:
            return self._tokens.get(value)

    def new_code(self, code: AuthCode) -> str:
        """Store an authorization code and return it."""
        value = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[value] = code
        return value

    def take_code(self, value: str) -> AuthCode | None:
        """Codes are single use."""
        with self._lock:
            return self._codes.pop(value, None)

    def new_refresh(self, client_id: str, user_id: str) -> str:
        """A refresh token for an authorization-code grant."""
        value = secrets.token_urlsafe(32)
        with self._lock:
            self._refresh[value] = (client_id, user_id)
        return value

    def use_refresh(self, value: str) -> tuple[str, str] | None:
        """(client id, user id) of a refresh token, which stays valid."""
        with self._lock:
            return self._refresh.get(value)


def basic_credentials(header: str | None) -> tuple[str | None, str | None]:
    """(client id, secret) from an ``Authorization: Basic`` header."""
    if not header or not header.lower().startswith("basic "):
        return None, None
    try:
        decoded = base64.b64decode(header[6:].strip()).decode()
    except (ValueError, UnicodeDecodeError):
        return None, None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


def pkce_ok(verifier: str | None, challenge: str | None, method: str) -> bool:
    """RFC 7636 check; S256 or plain."""
    if challenge is None:
        return True
    if not verifier:
        return False
    if method == "S256":
        digest = hashlib.sha256(verifier.encode()).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        return secrets.compare_digest(computed, challenge)
    return secrets.compare_digest(verifier, challenge)


@dataclass
class Window:
    """Fixed window of one bucket: when it started and how many requests it saw."""

    start: float
    count: int = 0


class RateLimiter:
    """Fixed-window quota per bucket (a token, or a client id at the token endpoint)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, Window] = {}
        self._prune_at = PRUNE_FLOOR

    def hit(self, bucket: str, now: float, limit: int, window: float, *, count: bool = True) -> tuple[int, int, bool]:
        """Count one request. Returns (count in window, seconds until reset, over the limit)."""
        with self._lock:
            current = self._windows.get(bucket)
            if current is None or now >= current.start + window:
                current = self._windows[bucket] = Window(now)
                if len(self._windows) >= self._prune_at:  # one bucket per token: drop the finished windows
                    self._windows = {k: w for k, w in self._windows.items() if now < w.start + window or k == bucket}
                    self._prune_at = max(PRUNE_FLOOR, 2 * len(self._windows))
            if count:
                current.count += 1
            reset = max(1, math.ceil(current.start + window - now))
            return current.count, reset, current.count > limit

    def clear(self) -> None:
        """Forget every window (control reset)."""
        with self._lock:
            self._windows.clear()
