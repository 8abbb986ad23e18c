"""Generations for short-lived caches of Genesys reads, moved on whenever the portal writes a wrap-up.

Search pages and conversation details are cached for a minute so paging back and forth costs no
quota; a cache entry is keyed by the generation it was made under, so after the portal writes a
code (``reads_invalidate``) no cached read can show the code it replaced. It lives in ``core``
because the reader (interactions) and the writer (assignments) must not import each other.
"""

from __future__ import annotations

import secrets

from django.core.cache import cache

GENERATION_KEY = "genesys-reads:generation"
CACHED_READ_SECONDS = 60  # how long a read may be reused
# A generation only has to outlive the entries keyed by it; each one is a fresh random number,
# so one that expired can never meet entries made under an earlier life of the same value.
GENERATION_SECONDS = 10 * CACHED_READ_SECONDS


def reads_generation() -> int:
    """The generation of every cached search page (any page may hold any conversation)."""
    return int(cache.get(GENERATION_KEY) or 0)


def conversation_generation(conversation_id: str) -> int:
    """The generation of one conversation's cached detail."""
    return int(cache.get(f"{GENERATION_KEY}:{conversation_id}") or 0)


def reads_invalidate(*, conversation_id: str) -> None:
    """The portal changed a wrap-up on this conversation: no cached page or detail may show the old one."""
    for key in (GENERATION_KEY, f"{GENERATION_KEY}:{conversation_id}"):
        cache.set(key, secrets.randbelow(2**62) + 1, GENERATION_SECONDS)
