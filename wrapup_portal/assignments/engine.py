"""The assignment life cycle after a request: claim, decide, write at most once, classify.

* **At most one write per assignment.** A write is sent only by the worker that moved the row
  to ``sending`` in a committed transaction (``select_for_update(skip_locked=True)``); a
  repeated task finds it claimed and does nothing (django-q2 delivers at least once).
* **No read before every write.** The first attempt decides from the state the validating read
  saw; only a leg still waiting for ACW, a refusal, or an unknown outcome is read again.
* **Unknown outcomes are read back, never re-sent blindly.** A ``sending`` row whose worker
  died (its lease has passed) is read back before anything else.
* No transaction is held open across an HTTP call.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.genesys import (
    GenesysClient,
    GenesysConnectionError,
    GenesysError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitedError,
    ServerError,
)
from wrapup_portal.accounts.selectors import queue_ids_for
from wrapup_portal.assignments.legs import Leg, leg_from_participant
from wrapup_portal.assignments.models import Assignment, LegState, Source, State
from wrapup_portal.assignments.services import assignment_audit, retry_delay
from wrapup_portal.audit.models import Action
from wrapup_portal.audit.services import Actor
from wrapup_portal.core.genesys import get_genesys_client
from wrapup_portal.core.read_cache import reads_invalidate

logger = logging.getLogger(__name__)
ENGINE = Actor.system("assignment engine")
# A "sending" row untouched this long lost its worker: read it back. Longer than django-q2's task
# timeout (which kills a worker, and its HTTP call with it) and than the longest a write may spend
# in the transport waiting out 429s (the CLI's --wait runs outside the cluster), so a slow write
# is never overtaken by a read-back and a second write.
LEASE = timedelta(seconds=max(2 * settings.Q_CLUSTER["timeout"] + 60, 600))
WAIT_CHECKS = (5, 10, 20, 30, 60)  # seconds between re-reads of a leg still connected, then every minute
WAIT_LIMIT = timedelta(hours=8)  # a leg that never reaches ACW in this long: failed, with that reason
MAX_TRIES = 8  # transient failures (5xx, timeouts, 429 beyond the transport's patience) before failing

NEVER_REACHED_ACW = "The leg did not reach after-call work within 8 hours."
EXPIRED_KEPT = "After-call work ended before the code could be written; Genesys kept {code}."
LEG_GONE = "Genesys no longer knows this conversation or leg."
REFUSED = "Genesys refused the write and the leg is still in after-call work: {error}"
GAVE_UP = "Gave up after {tries} attempts; last error: {error}"
NO_LONGER_GRANTED = ("{user} may no longer act on queue {queue} (queue grant revoked or account deactivated "
                     "since the request); nothing was written.")  # fmt: skip


def assignment_execute(*, assignment_id: int, client: GenesysClient | None = None,
                       reserved: bool = False) -> Assignment | None:  # fmt: skip
    """Move one assignment on as far as it can go now. Safe to call any number of times.

    ``reserved``: a feeder set this row's next attempt ahead to keep it for this task; run it now.
    """
    assignment = Assignment.objects.filter(pk=assignment_id).first()
    now = timezone.now()
    if assignment is None:
        return None
    if assignment.state == State.SENDING:
        if assignment.lease_until is not None and assignment.lease_until > now:
            return assignment  # another worker is sending it
        # Its worker died mid-write: the outcome is unknown, so read back before anything else,
        # under a lease of our own: a second copy of this task must not read back at the same time.
        taken = _take_over(assignment, now)
        if taken is None:
            return Assignment.objects.get(pk=assignment.pk)
        return _read_back(taken, client or get_genesys_client(), after=None)
    if assignment.state not in (State.REQUESTED, State.WAITING_FOR_ACW):
        return assignment
    if assignment.next_attempt_at > now and not reserved:
        return assignment
    if refusal := requester_refusal(assignment):  # before any read: a revoked grant stops the job's rows here
        return _finish(assignment, State.FAILED, Action.ASSIGNMENT_FAILED, reason=refusal)
    client = client or get_genesys_client()
    first = assignment.state == State.REQUESTED and assignment.attempts == 0 and assignment.checks == 0
    if first and assignment.seen_at is not None:
        leg = Leg(assignment.conversation_id, assignment.participant_id, True, assignment.queue_id, "",
                  assignment.seen_state, assignment.seen_code)  # fmt: skip
    else:
        leg = _read(assignment, client)
        if leg is None:
            return Assignment.objects.get(pk=assignment.pk)
    return _decide(assignment, leg, client)


def _decide(assignment: Assignment, leg: Leg, client: GenesysClient) -> Assignment:
    if leg.code == assignment.code_id:
        return _finish(assignment, State.APPLIED, Action.ASSIGNMENT_APPLIED, reason="the leg already carries the code")
    if leg.state == LegState.CONNECTED:
        return _wait(assignment)
    if leg.state == LegState.FINAL:
        return _finish(assignment, State.EXPIRED, Action.ASSIGNMENT_EXPIRED, final_code=leg.code,
                       reason=EXPIRED_KEPT.format(code=leg.code or "no code"))  # fmt: skip
    return _write(assignment, client)


def requester_refusal(assignment: Assignment) -> str:
    """Why the person who asked may no longer have this leg written ('' when they still may).

    Grants are checked when a request is validated, but a bulk job runs for minutes and a leg may
    wait hours for ACW: an admin who revokes a queue grant (or deactivates the account) meanwhile
    must stop every further write made in that person's name. Rules and the CLI without ``--as``
    act for the portal itself and are not limited by grants.
    """
    if assignment.source == Source.RULE or assignment.requested_by_id is None:
        return ""
    user = assignment.requested_by
    allowed = queue_ids_for(user=user) if user.is_active else set()
    if allowed is None or assignment.queue_id in allowed:
        return ""
    return NO_LONGER_GRANTED.format(user=user.get_username(), queue=assignment.queue_id or "unknown")


def _claim_for_sending(assignment: Assignment) -> Assignment | None:
    """Move a live row to ``sending`` in a committed transaction; None when another worker has it.

    The requester's grant is checked again under the row lock, just before the write: a row whose
    requester lost the queue is failed (audited) instead, and returned in that state.
    """
    now = timezone.now()
    with transaction.atomic():
        row = (Assignment.objects.select_for_update(skip_locked=True)
               .filter(pk=assignment.pk, state__in=(State.REQUESTED, State.WAITING_FOR_ACW)).first())  # fmt: skip
        if row is None:
            return None
        if refusal := requester_refusal(row):
            row.state, row.finished_at, row.lease_until, row.last_message = State.FAILED, now, None, refusal
            row.save(update_fields=["state", "finished_at", "lease_until", "last_message", "updated_at"])
            assignment_audit(row, Action.ASSIGNMENT_FAILED, ENGINE, outcome=State.FAILED, reason=refusal)
            return row
        row.state, row.attempts, row.lease_until = State.SENDING, row.attempts + 1, now + LEASE
        row.save(update_fields=["state", "attempts", "lease_until", "updated_at"])
        assignment_audit(row, Action.ASSIGNMENT_SENDING, ENGINE, outcome=State.SENDING,
                         reason=f"write #{row.attempts} sent to Genesys")  # fmt: skip
    return row


def _take_over(assignment: Assignment, now: datetime) -> Assignment | None:
    """Renew the expired lease of a lost "sending" row; None when another worker renewed it first.

    A compare-and-set on the lease this worker saw. Without it two read-backs could overlap, and
    the slower one, deciding from a read taken before the other had put the row back and a third
    worker had claimed it again, would move that new claim out of "sending" while its write was
    on its way, so that a fourth worker could write the leg a second time.
    """
    lease = now + LEASE
    if not Assignment.objects.filter(pk=assignment.pk, state=State.SENDING,
                                     lease_until=assignment.lease_until).update(lease_until=lease):  # fmt: skip
        return None
    assignment.lease_until = lease
    return assignment


def _write(assignment: Assignment, client: GenesysClient) -> Assignment:
    claimed = _claim_for_sending(assignment)
    if claimed is None:
        return Assignment.objects.get(pk=assignment.pk)
    if claimed.state != State.SENDING:  # refused under the lock: the requester lost the queue
        return claimed
    try:
        client.set_participant_wrapup(claimed.conversation_id, claimed.participant_id, code_id=claimed.code_id,
                                      notes=claimed.notes or None)  # fmt: skip
    except (OutcomeUnknownError, ServerError) as error:  # may or may not have been applied: read back
        _note(claimed, error)
        return _read_back(claimed, client, after=error)
    except RateLimitedError as error:  # not applied; the transport already waited as long as it may
        return _again(claimed, error, delay=timedelta(seconds=error.retry_after or 5), tries=claimed.attempts)
    except GenesysConnectionError as error:  # refused before sending: certainly not applied
        return _again(claimed, error, delay=retry_delay(claimed.attempts), tries=claimed.attempts)
    except GenesysError as error:  # a refusal (400/403/404/409): decide from the leg's state, not the status
        _note(claimed, error)
        return _read_back(claimed, client, after=error, refused=True)
    reads_invalidate(conversation_id=claimed.conversation_id)
    return _finish(claimed, State.APPLIED, Action.ASSIGNMENT_APPLIED, from_state=State.SENDING)


def _read_back(assignment: Assignment, client: GenesysClient, *, after: GenesysError | None,
               refused: bool = False) -> Assignment:  # fmt: skip
    """After an unknown outcome or a refusal: what does the leg carry now?"""
    leg = _read(assignment, client, keep_sending=True)
    if leg is None:
        return Assignment.objects.get(pk=assignment.pk)
    if leg.code == assignment.code_id:
        reads_invalidate(conversation_id=assignment.conversation_id)
        return _finish(assignment, State.APPLIED, Action.ASSIGNMENT_APPLIED, from_state=State.SENDING,
                       reason="read back after an unknown outcome" if not refused else "")  # fmt: skip
    if leg.state == LegState.FINAL:
        return _finish(assignment, State.EXPIRED, Action.ASSIGNMENT_EXPIRED, from_state=State.SENDING,
                       final_code=leg.code, reason=EXPIRED_KEPT.format(code=leg.code or "no code"))  # fmt: skip
    if leg.state == LegState.CONNECTED:
        return _wait(assignment, from_state=State.SENDING)
    if refused and after is not None:
        return _finish(assignment, State.FAILED, Action.ASSIGNMENT_FAILED, from_state=State.SENDING,
                       reason=REFUSED.format(error=after))  # fmt: skip
    # Still in ACW without the code: the write did not take; it may be sent again, with backoff.
    return _again(assignment, after, delay=retry_delay(assignment.attempts), tries=assignment.attempts)


def _read(assignment: Assignment, client: GenesysClient, *, keep_sending: bool = False) -> Leg | None:
    """A read of the leg; None when the read failed (the row is rescheduled or failed)."""
    Assignment.objects.filter(pk=assignment.pk).update(checks=assignment.checks + 1)
    assignment.checks += 1
    try:
        conversation = client.get_conversation(assignment.conversation_id)
    except NotFoundError:
        _finish(assignment, State.FAILED, Action.ASSIGNMENT_FAILED, reason=LEG_GONE,
                from_state=State.SENDING if keep_sending else None)  # fmt: skip
        return None
    except GenesysError as error:
        if keep_sending:  # stay "sending" with a short lease: the sweeper reads back again soon
            Assignment.objects.filter(pk=assignment.pk, state=State.SENDING).update(
                lease_until=timezone.now() + timedelta(seconds=30), last_message=f"read-back failed: {error}"[:2000])
        else:  # nothing was sent: try the read again later (a long wait for ACW is bounded by WAIT_LIMIT)
            _again(assignment, error, delay=retry_delay(min(assignment.checks, 6)), tries=0, from_state=None)
        return None
    participant = conversation.participant(assignment.participant_id)
    if participant is None:
        _finish(assignment, State.FAILED, Action.ASSIGNMENT_FAILED, reason=LEG_GONE,
                from_state=State.SENDING if keep_sending else None)  # fmt: skip
        return None
    return leg_from_participant(conversation.id, participant)


def _note(assignment: Assignment, error: GenesysError) -> None:
    Assignment.objects.filter(pk=assignment.pk).update(
        last_status=getattr(error, "status", None), last_code=(getattr(error, "code", "") or "")[:100],
        last_message=str(error)[:2000], last_correlation_id=(getattr(error, "correlation_id", "") or "")[:64])


def _transition(assignment: Assignment, *, to: str, from_state: str | None, **fields: object) -> Assignment | None:
    """Change state if the row is still where we left it; None when someone else moved it."""
    with transaction.atomic():
        allowed = (from_state,) if from_state else (State.REQUESTED, State.WAITING_FOR_ACW)
        row = Assignment.objects.select_for_update().filter(pk=assignment.pk, state__in=allowed).first()
        if row is None:
            return None
        row.state = to
        for name, value in fields.items():
            setattr(row, name, value)
        row.save()
        return row


def _finish(assignment: Assignment, state: str, action: str, *, from_state: str | None = None, reason: str = "",
            final_code: str = "") -> Assignment:  # fmt: skip
    fields: dict[str, object] = {"finished_at": timezone.now(), "lease_until": None, "final_code": final_code or ""}
    if state == State.FAILED:
        fields["last_message"] = reason
    with transaction.atomic():
        row = _transition(assignment, to=state, from_state=from_state, **fields)
        if row is None:
            return Assignment.objects.get(pk=assignment.pk)
        assignment_audit(row, action, ENGINE, outcome=state, reason=reason, correlation_id=row.last_correlation_id,
               code_before=final_code if state == State.EXPIRED else "")  # fmt: skip
    return row


def _wait(assignment: Assignment, *, from_state: str | None = None) -> Assignment:
    waited = timezone.now() - assignment.created_at
    if waited > WAIT_LIMIT:
        return _finish(assignment, State.FAILED, Action.ASSIGNMENT_FAILED, from_state=from_state, reason=NEVER_REACHED_ACW)
    step = WAIT_CHECKS[min(assignment.checks, len(WAIT_CHECKS) - 1)]
    with transaction.atomic():
        first = assignment.state != State.WAITING_FOR_ACW
        row = _transition(assignment, to=State.WAITING_FOR_ACW, from_state=from_state, lease_until=None,
                          next_attempt_at=timezone.now() + timedelta(seconds=step))  # fmt: skip
        if row is None:
            return Assignment.objects.get(pk=assignment.pk)
        if first:
            assignment_audit(row, Action.ASSIGNMENT_WAITING, ENGINE, outcome=State.WAITING_FOR_ACW,
                   reason="the agent is still connected; the code is written when after-call work starts")  # fmt: skip
    return row


def _again(assignment: Assignment, error: GenesysError | None, *, delay: timedelta, tries: int,
           from_state: str | None = State.SENDING) -> Assignment:  # fmt: skip
    """Not applied, worth another try later (failed once ``tries`` writes reached MAX_TRIES).

    The next try reads the leg first (it is no longer the first attempt), so a leg that left
    ACW meanwhile expires instead of being written.
    """
    if tries >= MAX_TRIES:
        return _finish(assignment, State.FAILED, Action.ASSIGNMENT_FAILED, from_state=from_state,
                       reason=GAVE_UP.format(tries=tries, error=error))  # fmt: skip
    if error is not None:
        _note(assignment, error)
    back_to = assignment.state if from_state is None else State.REQUESTED
    with transaction.atomic():
        row = _transition(assignment, to=back_to, from_state=from_state, lease_until=None,
                          next_attempt_at=timezone.now() + delay)  # fmt: skip
        if row is not None and from_state == State.SENDING:  # a state change: sending -> requested
            assignment_audit(row, Action.ASSIGNMENT_RESCHEDULED, ENGINE, outcome=State.REQUESTED,
                             reason=f"not applied ({error}); next try in {int(delay.total_seconds())} s")  # fmt: skip
    return row or Assignment.objects.get(pk=assignment.pk)


def assignments_lost(*, limit: int = 500) -> list[int]:
    """Ids of "sending" assignments whose worker died (their lease has passed): to be read back."""
    lost = Assignment.objects.filter(state=State.SENDING, lease_until__lte=timezone.now())
    return list(lost.order_by("lease_until").values_list("pk", flat=True)[:limit])


def assignments_due(*, limit: int = 500) -> list[int]:
    """Ids of assignments the sweeper must run now: due ones, and "sending" ones whose worker died."""
    due = Assignment.objects.filter(state__in=(State.REQUESTED, State.WAITING_FOR_ACW), next_attempt_at__lte=timezone.now())
    return list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit]) + assignments_lost(limit=limit)
