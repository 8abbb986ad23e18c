"""Background tasks of the audit app (django-q2). Plain functions, safe to run twice."""

from __future__ import annotations

from wrapup_portal.audit.services import audit_checkpoint_record, audit_verification_answer


def audit_chain_checkpoint() -> bool:
    """Scheduled: verify the whole chain and record a signed checkpoint (or a chain-broken event)."""
    return audit_checkpoint_record().ok


def audit_chain_verify_requested(request_sequence: int) -> str:
    """*Verify now*, queued by the audit page; answered once, however often it runs."""
    answer = audit_verification_answer(request_sequence=request_sequence)
    return f"verify now #{request_sequence}: {answer.get_action_display()} (#{answer.sequence})"
