"""Writes for assignments: request (validated before anything is queued), bulk jobs, cancel, retry.

Execution (the life cycle after a request) lives in ``engine``. Every state change writes its
audit event in the same transaction as the change.
"""

from __future__ import annotations

import getpass
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django_q.tasks import async_task

from integrations.genesys import GenesysError, NotFoundError
from integrations.genesys.analytics import SYSTEM_CODE_PREFIX
from integrations.genesys._parse import check_id
from wrapup_portal.accounts.selectors import queue_ids_for
from wrapup_portal.assignments.legs import Leg, leg_from_analytics, leg_from_participant
from wrapup_portal.assignments.models import LIVE_STATES, Assignment, BulkJob, LegState, Source, State
from wrapup_portal.audit.models import Action
from wrapup_portal.audit.services import Actor, audit_record
from wrapup_portal.catalog.models import CodeGroup, WrapupCode
from wrapup_portal.core.genesys import get_genesys_client

NOTES_MAX = 2000  # the client refuses longer notes; Genesys' own limit is UNVERIFIED
BATCH = 100  # conversations per batched analytics read
CHUNK = 25  # assignments per queued task
FEEDERS = 2  # chunks of a bulk job in django-q2's queue at once (see assignment_feed)
RESERVED_FOR = timedelta(minutes=2)  # a fed chunk's rows are not due meanwhile; a lost task frees them
FOLLOW_UP = timedelta(seconds=20)  # how long a job's last chunk waits for a retry about to fall due

UNKNOWN_CONVERSATION = "Genesys knows no conversation {cid}."
UNKNOWN_PARTICIPANT = "Conversation {cid} has no participant {pid}."
NOT_AN_AGENT_LEG = "Participant {pid} is not an agent leg ({purpose}); only agent legs carry a wrap-up code."
CHOOSE_PARTICIPANT = "Conversation {cid} has {count} agent legs; say which: {pids}."
NO_AGENT_LEG = "Conversation {cid} has no agent leg."
UNKNOWN_CODE = "No wrap-up code has the id or exact name {code!r} in the catalog."
CODE_NOT_OFFERED = "The code {name!r} is not offered to this leg (queue {queue}); choose one of its own codes."
QUEUE_NOT_GRANTED = "The leg is on queue {queue}, which is not granted to you."
NOTES_TOO_LONG = f"Notes may be at most {NOTES_MAX} characters."
IN_FLIGHT = "A write for this leg is being sent right now; try again in a moment."
WRITE_PATH_UNAVAILABLE = ("GENESYS_WRITE_PATH={path} (the agent's own token) is not available yet; only 'server' "
                          "writes are built. Unset it or set it to 'server'.")  # fmt: skip
SAME_LEG = "The same leg as line {line}; one leg takes one code."
NOT_CANCELLABLE = "Only a requested or waiting assignment can be cancelled; this one is {state}."
NOT_RETRYABLE = "Only a failed or expired assignment can be retried; this one is {state}."
ALREADY_RETRIED = "This assignment was already asked for again as assignment #{pk}."
REASON_NEEDED = "This leg already carries the code {name!r}; say why you are correcting it."


@dataclass(frozen=True)
class Requester:
    """Who asks: a person (their queue grants apply), the CLI, or a rule; and how to audit them."""

    actor: Actor
    user: AbstractBaseUser | None = None
    allowed: frozenset[str] | None = None  # queue ids; None = every queue

    @classmethod
    def person(cls, user: AbstractBaseUser) -> Requester:
        allowed = queue_ids_for(user=user)  # type: ignore[arg-type]
        return cls(Actor.for_user(user), user, None if allowed is None else frozenset(allowed))

    @classmethod
    def cli(cls, as_user: AbstractBaseUser | None = None) -> Requester:
        if as_user is not None:
            return cls.person(as_user)
        return cls(Actor.cli(getpass.getuser()))

    @property
    def name(self) -> str:
        return self.actor.username or self.actor.kind

    def may_act_on(self, queue_id: str) -> bool:
        return self.allowed is None or queue_id in self.allowed


def code_resolve(code: str) -> WrapupCode:
    """A code of the catalog by id, else by exact name (an active one first)."""
    value = (code or "").strip()
    found = WrapupCode.objects.filter(code_id=value.lower()).first() if value else None
    if found is None and value:
        found = WrapupCode.objects.filter(name=value).order_by("retired_at", "id").first()
    if found is None:
        raise ValidationError(UNKNOWN_CODE.format(code=value[:100]), code="unknown_code")
    return found


def _check_write_path() -> None:
    if settings.GENESYS_WRITE_PATH != "server":
        raise ValidationError(WRITE_PATH_UNAVAILABLE.format(path=settings.GENESYS_WRITE_PATH), code="write_path")


def _check_notes(notes: str) -> None:
    if len(notes or "") > NOTES_MAX:
        raise ValidationError(NOTES_TOO_LONG, code="notes")


def _queue_name(queue_id: str) -> str:
    group = CodeGroup.objects.filter(queue_id=queue_id).first()
    return f"{group.name} ({queue_id})" if group else queue_id or "unknown"


def _offered_by_catalog(queue_id: str) -> set[str]:
    return set(WrapupCode.objects.filter(memberships__group__queue_id=queue_id).values_list("code_id", flat=True))


# --- one leg ------------------------------------------------------------------------------------
def assignment_request(
    *,
    conversation_id: str,
    participant_id: str | None,
    code: str,
    requester: Requester,
    source: str = Source.PERSON,
    reason: str = "",
    notes: str = "",
    request: HttpRequest | None = None,
    job: BulkJob | None = None,
    correction_needs_reason: bool = False,
) -> Assignment:
    """Validate one request against Genesys and queue it; a ``ValidationError`` creates nothing.

    Reads the leg (and the codes Genesys offers it, falling back to the queue's synced code
    group): the first attempt decides from what this read saw, so a single assignment costs
    these reads and at most one write. With ``correction_needs_reason`` (a person on the
    detail page), replacing a real code the leg already carries needs a reason; a system
    ``ININ-*`` code or no code is not a correction.
    """
    _check_write_path()
    _check_notes(notes)
    target = code_resolve(code)
    client = get_genesys_client()
    try:
        conversation = client.get_conversation(conversation_id)
    except NotFoundError:
        raise ValidationError(UNKNOWN_CONVERSATION.format(cid=conversation_id), code="unknown_conversation") from None
    except ValueError:  # a malformed id: the client refused it before sending anything
        raise ValidationError(UNKNOWN_CONVERSATION.format(cid=str(conversation_id)[:64]), code="unknown_conversation") from None
    if not participant_id:
        agents = conversation.agent_participants
        if len(agents) != 1:
            message = NO_AGENT_LEG if not agents else CHOOSE_PARTICIPANT
            raise ValidationError(message.format(cid=conversation.id, count=len(agents),
                                                 pids=", ".join(a.id for a in agents)), code="participant")  # fmt: skip
        participant_id = agents[0].id
    participant = conversation.participant(participant_id)
    if participant is None:
        raise ValidationError(UNKNOWN_PARTICIPANT.format(cid=conversation.id, pid=participant_id), code="unknown_participant")
    if participant.purpose != "agent":
        raise ValidationError(NOT_AN_AGENT_LEG.format(pid=participant.id, purpose=participant.purpose), code="not_agent")
    leg = leg_from_participant(conversation.id, participant)
    if not requester.may_act_on(leg.queue_id):
        raise ValidationError(QUEUE_NOT_GRANTED.format(queue=_queue_name(leg.queue_id)), code="not_granted")
    try:
        offered = {c.id for c in client.get_participant_wrapup_codes(conversation.id, participant.id)}
    except (NotFoundError, GenesysError):
        offered = set()
    offered = offered or _offered_by_catalog(leg.queue_id)
    if target.code_id not in offered:
        raise ValidationError(CODE_NOT_OFFERED.format(name=target.name, queue=_queue_name(leg.queue_id)), code="not_offered")
    if correction_needs_reason and _is_real_code(leg.code) and leg.code != target.code_id and not reason.strip():
        current = WrapupCode.objects.filter(code_id=leg.code).first()
        raise ValidationError(REASON_NEEDED.format(name=current.name if current else leg.code), code="reason")
    return _create(leg=leg, code=target, requester=requester, source=source, reason=reason, notes=notes,
                   request=request, job=job)  # fmt: skip


def assignment_request_for_leg(*, leg: Leg, code: WrapupCode, requester: Requester, source: str, reason: str = "",
                               notes: str = "", enqueue: bool = True) -> Assignment:  # fmt: skip
    """Queue a request for a leg the caller has just read (a rule on the event path); no read of its own.

    The code must be one the leg's queue offers in the synced catalog. ``enqueue`` off: the
    caller runs the assignment itself at once (the sweeper still picks it up if that fails).
    """
    _check_write_path()
    _check_notes(notes)
    if code.code_id not in _offered_by_catalog(leg.queue_id):
        raise ValidationError(CODE_NOT_OFFERED.format(name=code.name, queue=_queue_name(leg.queue_id)), code="not_offered")
    return _create(leg=leg, code=code, requester=requester, source=source, reason=reason, notes=notes, request=None,
                   job=None, enqueue=enqueue)  # fmt: skip


def _is_real_code(code: str) -> bool:
    return bool(code) and not code.upper().startswith(SYSTEM_CODE_PREFIX)


def _create(*, leg: Leg, code: WrapupCode, requester: Requester, source: str, reason: str, notes: str,
            request: HttpRequest | None, job: BulkJob | None, enqueue: bool = True) -> Assignment:  # fmt: skip
    now = timezone.now()
    with transaction.atomic():
        live = (Assignment.objects.select_for_update()
                .filter(conversation_id=leg.conversation_id, participant_id=leg.participant_id, state__in=LIVE_STATES)
                .first())  # fmt: skip
        if live is not None and live.state == State.SENDING:
            raise ValidationError(IN_FLIGHT, code="in_flight")
        if live is not None:
            Assignment.objects.filter(pk=live.pk).update(state=State.CANCELLED, finished_at=now)
        try:
            assignment = Assignment.objects.create(
                conversation_id=leg.conversation_id, participant_id=leg.participant_id, queue_id=leg.queue_id,
                code_id=code.code_id, code_name=code.name, notes=notes or "", reason=reason or "", source=source,
                requested_by=requester.user, requested_by_name=requester.name, job=job,
                seen_state=leg.state, seen_code=leg.code, seen_at=now, code_before=leg.code, next_attempt_at=now,
            )  # fmt: skip
        except IntegrityError:  # another request for this leg won the race between our read and insert
            raise ValidationError(IN_FLIGHT, code="in_flight") from None
        if live is not None:
            Assignment.objects.filter(pk=live.pk).update(superseded_by=assignment)
            assignment_audit(live, Action.ASSIGNMENT_SUPERSEDED, requester.actor, request, outcome="cancelled",
                   reason=f"superseded by assignment #{assignment.pk}")  # fmt: skip
        assignment_audit(assignment, Action.ASSIGNMENT_REQUESTED, requester.actor, request, outcome="requested", reason=reason)
        if enqueue:
            transaction.on_commit(lambda: assignment_enqueue([assignment.pk]))
    return assignment


def assignment_audit(assignment: Assignment, action: str, actor: Actor, request: HttpRequest | None = None, *,
                     outcome: str = "", reason: str = "", correlation_id: str = "", code_before: str = "") -> None:  # fmt: skip
    """The audit event of one state change; call it inside the transaction that makes the change."""
    audit_record(
        action=action, actor=actor, request=request, target_kind="assignment", target_id=str(assignment.pk),
        conversation_id=assignment.conversation_id, participant_id=assignment.participant_id,
        queue_id=assignment.queue_id, code_before_id=code_before or assignment.code_before,
        code_after_id=assignment.code_id, code_after_name=assignment.code_name, outcome=outcome,
        reason=(reason or assignment.reason)[:1000], correlation_id=correlation_id,
        extra={"source": assignment.source, "job": assignment.job_id, "attempts": assignment.attempts},
    )  # fmt: skip


def assignment_enqueue(assignment_ids: Sequence[int]) -> None:
    """Queue these few assignments now (a person's request, a lost write to read back), in chunks."""
    ids = list(assignment_ids)
    for start in range(0, len(ids), CHUNK):
        async_task("wrapup_portal.assignments.tasks.assignments_execute_task", ids[start:start + CHUNK],
                   task_name=f"assignments {ids[start]}…", group="assignments")  # fmt: skip


def assignment_feed(*, chunks: int = FEEDERS) -> int:
    """Queue up to ``chunks`` chunks of due work; each chunk, once run, queues the next (``tasks``).

    django-q2 runs tasks first in, first out: a 1,000-leg job queued at once would hold the
    heartbeat, the sweeper and a person's single assignment behind minutes of quota-paced work.
    Fed like this, the queue holds a few chunks at a time. Each chunk's rows are reserved (their
    next attempt moved ``RESERVED_FOR`` ahead) so two feeders never take the same rows; if the
    task is lost, the rows fall due again and the sweeper feeds them. Returns the rows queued.
    """
    queued = 0
    for _ in range(chunks):
        now = timezone.now()
        with transaction.atomic():
            ids = list(Assignment.objects.select_for_update(skip_locked=True)
                       .filter(state__in=(State.REQUESTED, State.WAITING_FOR_ACW), next_attempt_at__lte=now)
                       .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:CHUNK])  # fmt: skip
            if not ids:
                break
            Assignment.objects.filter(pk__in=ids).update(next_attempt_at=now + RESERVED_FOR)
        async_task("wrapup_portal.assignments.tasks.assignments_execute_task", ids, True,
                   task_name=f"assignments {ids[0]}… (fed)", group="assignments")  # fmt: skip
        queued += len(ids)
    return queued


def assignment_feed_follow_up(*, within: timedelta = FOLLOW_UP, sleep: Callable[[float], None] = time.sleep) -> int:
    """For a chunk that found nothing left to feed: a write retry falling due within ``within`` is
    fed when it falls due, instead of at the next sweep (up to a minute later).

    Retries after a 5xx or a timeout are rescheduled a few seconds ahead (``retry_delay``); at the
    end of a job nothing else would feed them until the sweeper runs, so a job under faults would
    finish a minute after its last fresh chunk. Legs waiting for ACW are not followed: their
    ``acw`` event, or the sweeper, brings them back. Returns the rows queued.
    """
    soonest = (Assignment.objects.filter(state=State.REQUESTED, next_attempt_at__lte=timezone.now() + within)
               .order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first())  # fmt: skip
    if soonest is None:
        return 0
    sleep(max(0.0, (soonest - timezone.now()).total_seconds()))
    return assignment_feed(chunks=1)


# --- many legs ------------------------------------------------------------------------------------
class Verdict:
    WILL_APPLY = "will apply"
    ALREADY = "already has this code"
    WAITS = "still connected: will be written when ACW starts"
    FINAL = "ACW over: Genesys keeps its code"
    NOT_ALLOWED = "not allowed"
    INVALID = "invalid"

    QUEUEABLE = (WILL_APPLY, ALREADY, WAITS, FINAL)


@dataclass
class PreviewRow:
    line: int  # 1-based position (a CSV's line number)
    conversation_id: str
    participant_id: str
    code: WrapupCode | None
    notes: str = ""
    verdict: str = Verdict.INVALID
    message: str = ""
    leg: Leg | None = None

    @property
    def ok(self) -> bool:
        return self.verdict in Verdict.QUEUEABLE


@dataclass
class Preview:
    rows: list[PreviewRow] = field(default_factory=list)
    reads: int = 0

    @property
    def ok_rows(self) -> list[PreviewRow]:
        return [r for r in self.rows if r.ok]

    @property
    def bad_rows(self) -> list[PreviewRow]:
        return [r for r in self.rows if not r.ok]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.rows:
            out[row.verdict] = out.get(row.verdict, 0) + 1
        return out


@dataclass(frozen=True)
class Wanted:
    """One row of a bulk request: a leg (participant may be empty: the one agent leg) and a code."""

    conversation_id: str
    participant_id: str
    code: str
    notes: str = ""


def bulk_preview(*, wanted: Sequence[Wanted], requester: Requester, lines: Sequence[int] | None = None) -> Preview:
    """What would happen to each leg, from one analytics read per 100 conversations; writes nothing.

    Codes are checked against the leg queue's synced code group (no per-leg call). ``lines``
    numbers the rows (a CSV's line numbers); by default 1, 2, …
    """
    _check_write_path()
    preview = Preview()
    codes: dict[str, WrapupCode | ValidationError] = {}
    for item in wanted:
        if item.code not in codes:
            try:
                codes[item.code] = code_resolve(item.code)
            except ValidationError as error:
                codes[item.code] = error
    conversation_ids = list(dict.fromkeys(w.conversation_id.strip().lower() for w in wanted if w.conversation_id.strip()))
    found: dict[str, dict[str, Leg]] = {}
    client = get_genesys_client()
    for start in range(0, len(conversation_ids), BATCH):
        chunk = [cid for cid in conversation_ids[start:start + BATCH] if _looks_like_id(cid)]
        if not chunk:
            continue
        preview.reads += 1
        for conversation in client.get_conversations_details(chunk):
            found[conversation.conversation_id] = {
                p.participant_id: leg_from_analytics(conversation.conversation_id, p)
                for p in conversation.participants if p.purpose == "agent"
            }
    offered_by_queue: dict[str, set[str]] = {}
    first_line: dict[tuple[str, str], int] = {}
    for index, item in enumerate(wanted):
        line = lines[index] if lines is not None else index + 1
        code = codes[item.code]
        row = PreviewRow(line, item.conversation_id.strip().lower(), item.participant_id.strip().lower(),
                         code if isinstance(code, WrapupCode) else None, item.notes or "")  # fmt: skip
        preview.rows.append(row)
        _judge(row, code, found, offered_by_queue, requester)
        if row.leg is not None:
            leg = (row.conversation_id, row.participant_id)
            if leg in first_line and row.ok:  # a second request would only supersede the first
                row.verdict, row.message = Verdict.INVALID, SAME_LEG.format(line=first_line[leg])
            first_line.setdefault(leg, line)
    return preview


def _looks_like_id(value: str) -> bool:
    try:
        check_id(value, "conversation id")
    except ValueError:
        return False
    return True


def _judge(row: PreviewRow, code: WrapupCode | ValidationError, found: dict[str, dict[str, Leg]],
           offered_by_queue: dict[str, set[str]], requester: Requester) -> None:  # fmt: skip
    if isinstance(code, ValidationError):
        row.message = code.messages[0]
        return
    if len(row.notes) > NOTES_MAX:
        row.message = NOTES_TOO_LONG
        return
    legs = found.get(row.conversation_id)
    if legs is None:
        row.message = UNKNOWN_CONVERSATION.format(cid=row.conversation_id or "(empty)")
        return
    if not row.participant_id:
        if len(legs) != 1:
            message = NO_AGENT_LEG if not legs else CHOOSE_PARTICIPANT
            row.message = message.format(cid=row.conversation_id, count=len(legs), pids=", ".join(legs))
            return
        row.participant_id = next(iter(legs))
    leg = legs.get(row.participant_id)
    if leg is None:
        row.message = UNKNOWN_PARTICIPANT.format(cid=row.conversation_id, pid=row.participant_id)
        return
    row.leg = leg
    if not requester.may_act_on(leg.queue_id):
        row.verdict, row.message = Verdict.NOT_ALLOWED, QUEUE_NOT_GRANTED.format(queue=_queue_name(leg.queue_id))
        return
    if leg.queue_id not in offered_by_queue:
        offered_by_queue[leg.queue_id] = _offered_by_catalog(leg.queue_id)
    if code.code_id not in offered_by_queue[leg.queue_id]:
        row.message = CODE_NOT_OFFERED.format(name=code.name, queue=_queue_name(leg.queue_id))
        return
    if leg.code == code.code_id:
        row.verdict = Verdict.ALREADY
    elif leg.state == LegState.ACW:
        row.verdict = Verdict.WILL_APPLY
    elif leg.state == LegState.CONNECTED:
        row.verdict = Verdict.WAITS
    else:
        row.verdict = Verdict.FINAL


def bulk_job_create(*, preview: Preview, requester: Requester, source: str, reason: str = "", file_name: str = "",
                    request: HttpRequest | None = None, feed: bool = True) -> BulkJob:  # fmt: skip
    """Queue the preview's good rows as one job (the caller decides whether bad rows block it).

    ``feed`` off leaves them due without queueing a task: a caller that runs them itself (the
    CLI's ``--wait``); a running cluster's sweeper still picks them up within a minute.
    """
    with transaction.atomic():
        job = BulkJob.objects.create(source=source, requested_by=requester.user, requested_by_name=requester.name,
                                     reason=reason, file_name=file_name[:255])  # fmt: skip
        for row in preview.ok_rows:
            assert row.leg is not None and row.code is not None
            _create(leg=row.leg, code=row.code, requester=requester, source=source, reason=reason,
                    notes=row.notes, request=request, job=job, enqueue=False)  # fmt: skip
        if feed:
            transaction.on_commit(lambda: assignment_feed())
    return job


# --- a person's actions on one assignment -----------------------------------------------------------
def assignment_cancel(*, assignment_id: int, requester: Requester, request: HttpRequest | None = None) -> Assignment:
    with transaction.atomic():
        assignment = Assignment.objects.select_for_update().get(pk=assignment_id)
        if assignment.state not in (State.REQUESTED, State.WAITING_FOR_ACW):
            raise ValidationError(NOT_CANCELLABLE.format(state=assignment.get_state_display().lower()), code="state")
        assignment.state, assignment.finished_at = State.CANCELLED, timezone.now()
        assignment.save(update_fields=["state", "finished_at", "updated_at"])
        assignment_audit(assignment, Action.ASSIGNMENT_CANCELLED, requester.actor, request, outcome="cancelled")
    return assignment


def assignment_retry(*, assignment_id: int, requester: Requester, request: HttpRequest | None = None) -> Assignment:
    """A failed or expired assignment asked for again: a new request for the same leg and code.

    The new one stays in the old one's job (its progress counts the leg once, by its newest
    try) and the old one points at it (``superseded_by``), so a retry is followed, not lost.
    """
    old = Assignment.objects.get(pk=assignment_id)
    if old.state not in (State.FAILED, State.EXPIRED):
        raise ValidationError(NOT_RETRYABLE.format(state=old.get_state_display().lower()), code="state")
    if old.superseded_by_id is not None:
        raise ValidationError(ALREADY_RETRIED.format(pk=old.superseded_by_id), code="retried")
    new = assignment_request(conversation_id=old.conversation_id, participant_id=old.participant_id, code=old.code_id,
                             requester=requester, source=old.source, reason=old.reason, notes=old.notes,
                             request=request, job=old.job)  # fmt: skip
    with transaction.atomic():
        Assignment.objects.filter(pk=old.pk).update(superseded_by=new)
        assignment_audit(new, Action.ASSIGNMENT_RETRIED, requester.actor, request, outcome="requested",
               reason=f"retry of assignment #{old.pk}")  # fmt: skip
    return new


def retry_delay(attempt: int, *, base: float = 2.0, cap: float = 60.0, rng: float | None = None) -> timedelta:
    """Capped exponential backoff with full jitter for 5xx and timeouts."""
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    return timedelta(seconds=(rng if rng is not None else random.random()) * ceiling + 0.5)
