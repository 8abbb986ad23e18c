"""Recompute the chain and compare it with the signed checkpoints and the chain head.

What each check catches (triggers dropped, someone edits the table by hand):
- altered event          -> its recomputed hash differs from the stored one
- deleted event          -> a gap in the sequence
- reordered events       -> hash (it covers the sequence) and prev_hash links break
- newest events removed  -> a checkpoint, or the chain head, names a sequence that is gone
- rewritten tail + head  -> the signed checkpoints name hashes that are gone
"""

from __future__ import annotations

from dataclasses import dataclass

from wrapup_portal.audit.chain import GENESIS_HASH, ROW_FIELDS, canonical_time, checkpoint_payload, event_hash, signature_ok
from wrapup_portal.audit.models import AuditChainHead, AuditCheckpoint, AuditEvent
from wrapup_portal.audit.selectors import raw_rows

VERIFY_BATCH = 20_000


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    head_sequence: int
    head_hash: str
    first_bad: int | None = None
    message: str = ""
    checkpoints: int = 0

    @property
    def first_line(self) -> str:
        """The line `verify_audit` prints first; names the first broken event as #<sequence>."""
        if self.ok:
            return f"Audit chain intact: {self.checked} events, head #{self.head_sequence} {self.head_hash}"
        return f"Audit chain broken at #{self.first_bad}: {self.message}"


def _checkpoint_problems() -> tuple[dict[int, str], list[tuple[int, str]], int]:
    """Hashes named by valid checkpoints, problems with the others, and their count."""
    expected: dict[int, str] = {}
    problems: list[tuple[int, str]] = []
    checkpoints = list(AuditCheckpoint.objects.order_by("sequence", "id"))
    for cp in checkpoints:
        payload = checkpoint_payload(sequence=cp.sequence, hash=cp.hash, verified_at=cp.verified_at, events_checked=cp.events_checked)
        if not signature_ok(payload, cp.signature):
            problems.append((cp.sequence, f"checkpoint {cp.pk} for this event has an invalid signature"))
        elif cp.sequence:
            expected[cp.sequence] = cp.hash
    return expected, problems, len(checkpoints)


def audit_chain_verify(*, batch_size: int = VERIFY_BATCH) -> VerifyResult:
    """Walk every event in sequence order, recomputing hashes; constant memory."""
    head = AuditChainHead.objects.filter(pk=1).first()
    head_seq = head.sequence if head else 0
    expected_hashes, problems, n_checkpoints = _checkpoint_problems()
    upto = max([head_seq, *expected_hashes]) if expected_hashes else head_seq
    # Events inserted after we read the head are someone else's to verify next time, unless
    # the head itself is missing or behind (then verify everything there is).
    if head is None or not head_seq:
        upto = max(upto, AuditEvent.objects.order_by("-sequence").values_list("sequence", flat=True).first() or 0)

    prev_hash, prev_time, last, checked = GENESIS_HASH, None, 0, 0
    chain_problem: tuple[int, str] | None = None
    while chain_problem is None:
        rows = raw_rows(
            AuditEvent.objects.filter(sequence__gt=last, sequence__lte=upto).order_by("sequence").values_list(*ROW_FIELDS)[:batch_size]
        )
        for row in rows:
            seq, stored, time = row[0], row[-1], canonical_time(row[1])
            if seq != last + 1:
                chain_problem = (last + 1, f"missing (the next event present is #{seq})")
            elif row[-2] != prev_hash:
                chain_problem = (seq, f"its prev_hash does not match the hash of #{last}")
            elif event_hash(row[:-1], stored_canonical=True) != stored:
                chain_problem = (seq, "its content does not match its hash (altered)")
            elif prev_time is not None and time < prev_time:
                chain_problem = (seq, f"it is dated before #{last} (reordered)")
            elif expected_hashes.get(seq, stored) != stored:
                chain_problem = (seq, "its hash differs from the signed checkpoint (rewritten)")
            if chain_problem:
                break
            prev_hash, prev_time, last = stored, time, seq
            checked += 1
        if len(rows) < batch_size:
            break
    if chain_problem:
        problems.append(chain_problem)
    elif last < upto:
        source = "a signed checkpoint" if last < max(expected_hashes, default=0) else "the chain head"
        problems.append((last + 1, f"missing: {source} records events up to #{upto} (the newest events were removed)"))
    if problems:
        first_bad, message = min(problems)
        return VerifyResult(False, checked, last, prev_hash, first_bad, message, n_checkpoints)
    return VerifyResult(True, checked, last, prev_hash, None, "", n_checkpoints)


def audit_event_integrity(*, event: AuditEvent, previous: AuditEvent | None) -> tuple[bool, bool]:
    """For one event's page: does its content match its hash, and does it follow its predecessor?"""
    values = [getattr(event, name) for name in ROW_FIELDS[:-1]]
    linked = event.prev_hash == (previous.hash if previous else GENESIS_HASH) if (previous or event.sequence == 1) else False
    return event_hash(values) == event.hash, linked
