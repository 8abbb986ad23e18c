"""Writes for interactions: only the cache generation, bumped when the portal changes a wrap-up."""

from __future__ import annotations

from django.core.cache import cache

from wrapup_portal.interactions.selectors import GENERATION_KEY


def interaction_cache_invalidate(*, conversation_id: str) -> None:
    """The portal changed a wrap-up on this conversation: no cached page or detail may show the old one.

    Search pages are keyed by a global generation (any page may hold the conversation), the
    detail by the conversation's own; both move on here, so the next read goes to Genesys.
    """
    for key in (GENERATION_KEY, f"{GENERATION_KEY}:{conversation_id}"):
        if not cache.add(key, 1, None):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, None)
