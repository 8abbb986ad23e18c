"""The portal's one Genesys client, built from settings, and the cross-process pieces it shares.

Every web and worker process of a deployment shares the default cache (a database table), so
the processes share through it:

* the access token (``CacheTokenCache``): one token means one Genesys quota bucket for the
  whole deployment, instead of one per process that nobody could pace together;
* the pacing state of that bucket (``CachePacer``), so a bulk run in several workers stays
  under the quota instead of each worker discovering the limit through 429s.

The token is kept only in the cache table, for at most its lifetime, encrypted with a key from the
environment (``token_key``), so the table's rows (a database dump) do not hand it out; it is never logged.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import DatabaseError
from django.dispatch import receiver

from integrations.genesys import AccessToken, GenesysClient, GenesysConfigurationError, PacingState, StatePacer

LOCK_TTL_SECONDS = 5  # a crashed holder blocks the others for at most this long
LOCK_WAIT_SECONDS = 2.0  # after this, proceed unlocked: pacing is best effort, work is not
STATE_TTL_SECONDS = 3600
GENESYS_NOT_CONFIGURED = "Genesys not configured"

logger = logging.getLogger("integrations.genesys")

_client: GenesysClient | None = None
_client_lock = threading.Lock()


class CachePacer(StatePacer):
    """Pacing state kept in the Django cache, under a short lock made with ``cache.add``.

    Pacing is best effort, the work is not: if the cache table cannot be read or written, the
    process falls back to pacing its own threads from memory instead of failing the request.
    """

    def __init__(self, *, namespace: str = "genesys:pacing", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.namespace = namespace
        self._local = threading.Lock()  # threads of this process queue here, not on the database
        self._fallback: dict[str, PacingState] = {}

    @contextmanager
    def _locked(self, bucket: str) -> Iterator[PacingState]:
        key = f"{self.namespace}:{bucket}"
        lock_key, owner = f"{key}:lock", uuid.uuid4().hex
        with self._local:
            held = self._acquire_lock(lock_key, owner)
            try:
                state = PacingState.from_dict(cache.get(key))
            except DatabaseError:
                logger.warning("Genesys pacing: the cache is unavailable; pacing this process only.")
                state = self._fallback.setdefault(bucket, PacingState())
            try:
                yield state
                self._fallback[bucket] = state
                cache.set(key, state.to_dict(), STATE_TTL_SECONDS)
            except DatabaseError:
                pass  # the in-memory copy above keeps this process paced
            finally:
                if held:
                    self._release_lock(lock_key, owner)

    @staticmethod
    def _acquire_lock(lock_key: str, owner: str) -> bool:
        """``cache.add`` inserts only when the row is absent: the one atomic step a database cache offers."""
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        try:
            while not cache.add(lock_key, owner, LOCK_TTL_SECONDS):
                if time.monotonic() >= deadline:
                    return False  # a stuck holder: go on unlocked rather than stall the work
                time.sleep(0.005)
        except DatabaseError:
            return False
        return True

    @staticmethod
    def _release_lock(lock_key: str, owner: str) -> None:
        try:
            if cache.get(lock_key) == owner:
                cache.delete(lock_key)
        except DatabaseError:
            pass


TOKEN_KEY_INFO = b"wrapup-portal/genesys-access-token/v1"
TOKEN_FORMAT = "aesgcm1"


def token_key() -> bytes:
    """The 256-bit key that encrypts the cached access token.

    HKDF-SHA256 over ``PORTAL_TOKEN_KEY`` when set, else over ``DJANGO_SECRET_KEY``: both live in
    the environment (or a file it names), never in the database. The ``info`` label keeps this key
    apart from anything else derived from the same secret (Django's signing uses its own salts).
    """
    material = (settings.PORTAL_TOKEN_KEY or settings.SECRET_KEY).encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=TOKEN_KEY_INFO).derive(material)


class CacheTokenCache:
    """The deployment's current access token, in the Django cache, encrypted (AES-GCM).

    The cache key is the associated data, so a row copied under another key does not decrypt.
    A row that does not decrypt (the key changed, or the row was tampered with) reads as "no
    token": the client fetches a new one instead of failing.
    """

    def __init__(self, key: str) -> None:
        self.key = key

    def get(self) -> AccessToken | None:
        data = cache.get(self.key)
        if not isinstance(data, dict) or data.get("format") != TOKEN_FORMAT:
            return None  # nothing cached, or a plain row from before encryption: fetch anew
        try:
            sealed = base64.b64decode(str(data["sealed"]), validate=True)
            plain = AESGCM(token_key()).decrypt(sealed[:12], sealed[12:], self.key.encode())
            found = json.loads(plain)
            return AccessToken(str(found["value"]), float(found["expires_at"]))
        except (InvalidTag, KeyError, ValueError, TypeError, binascii.Error):
            logger.info("Genesys token cache: the cached token does not decrypt (key changed?); fetching a new one.")
            return None

    def set(self, token: AccessToken | None) -> None:
        if token is None:
            cache.delete(self.key)
            return
        ttl = max(1, int(token.expires_at - time.time()))
        nonce = os.urandom(12)
        plain = json.dumps({"value": token.value, "expires_at": token.expires_at}).encode()
        sealed = nonce + AESGCM(token_key()).encrypt(nonce, plain, self.key.encode())
        cache.set(self.key, {"format": TOKEN_FORMAT, "sealed": base64.b64encode(sealed).decode()}, ttl)


def genesys_missing_settings() -> list[str]:
    """What is left to set before the portal can talk to Genesys (empty when configured).

    Read from the current settings, not ``GENESYS_CONFIGURED`` (computed once at start-up), so
    a test or a settings override sees its own values.
    """
    missing = []
    if not settings.GENESYS_API_URL:
        missing.append("GENESYS_REGION (or GENESYS_API_URL)")
    elif not settings.GENESYS_LOGIN_URL:
        missing.append("GENESYS_LOGIN_URL")
    credentials = [name for name in ("GENESYS_CLIENT_ID", "GENESYS_CLIENT_SECRET") if not getattr(settings, name)]
    if credentials:
        missing.append("/".join(credentials))
    return missing


def genesys_not_configured_message(missing: list[str]) -> str:
    """``Genesys not configured: set …`` naming the variables in ``missing``."""
    return f"{GENESYS_NOT_CONFIGURED}: set {' and '.join(missing)}"


def build_genesys_client(*, share_across_processes: bool = True) -> GenesysClient:
    """A new client from settings (``get_genesys_client`` keeps one per process).

    Raises ``GenesysConfigurationError`` naming the variables to set when Genesys is not
    configured: outside DEBUG there is no default organisation (no sandbox, no demo pair).
    """
    missing = genesys_missing_settings()
    if missing:
        raise GenesysConfigurationError(genesys_not_configured_message(missing))
    deployment = hashlib.sha256(f"{settings.GENESYS_API_URL}|{settings.GENESYS_CLIENT_ID}".encode()).hexdigest()[:16]
    extra: dict[str, Any] = {}
    if share_across_processes:
        extra = {"pacer": CachePacer(), "token_cache": CacheTokenCache(f"genesys:token:{deployment}")}
    return GenesysClient(
        client_id=settings.GENESYS_CLIENT_ID,
        client_secret=settings.GENESYS_CLIENT_SECRET,
        api_url=settings.GENESYS_API_URL,
        login_url=settings.GENESYS_LOGIN_URL,
        timeout=settings.GENESYS_TIMEOUT_SECONDS,
        **extra,
    )


def get_genesys_client() -> GenesysClient:
    """The process's Genesys client: built on first use, then shared by every thread.

    ``GenesysConfigurationError`` (naming what to set) while Genesys is not configured.
    """
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = build_genesys_client()
    return _client


def reset_genesys_client() -> None:
    """Forget the process's client (settings changed, tests)."""
    global _client
    with _client_lock:
        _client = None


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("GENESYS_"):
        reset_genesys_client()
