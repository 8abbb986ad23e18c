"""Background tasks of the audit app (django-q2). Plain functions, safe to run twice."""

from __future__ import annotations

from wrapup_portal.audit.services import audit_checkpoint_record


def audit_chain_checkpoint() -> bool:
    """Scheduled: verify the whole chain and record a signed checkpoint (or a chain-broken event)."""
    return audit_checkpoint_record().ok
