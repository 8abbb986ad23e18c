"""The rules' event path: a Genesys conversation event in, at most one rule's assignment out.

``POST /hooks/genesys/events`` (``hooks``) checks the shared secret, parses the event (bare, topic
in ``X-Wrapup-Event-Topic``, or an EventBridge envelope), stores it once per leg and kind
(``ConversationEvent.dedupe_key``) and answers 202; ``events_process_task`` does the work
(``event_processing``). Replay safety has three layers: one row per leg and kind, a
compare-and-set claim of the row before any work, and no rule assignment for a leg that already
has a live one or an applied rule's one. The poller (``poller``) feeds the legs it finds through
the same rows.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone as dt_timezone
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django_q.tasks import async_task

from integrations.genesys._parse import is_uuid
from wrapup_portal.assignments.event_processing import leg_waiting
from wrapup_portal.assignments.models import ConversationEvent, EventKind, EventOutcome
from wrapup_portal.audit.models import Action
from wrapup_portal.audit.services import Actor, audit_record
from wrapup_portal.core.storable import has_unstorable_text

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Wrapup-Webhook-Secret"
TOPIC_HEADER = "X-Wrapup-Event-Topic"
MAX_BODY = 64 * 1024  # a real event is about 1 KB
MAX_PENDING_PER_CONVERSATION = 20  # unprocessed rows per conversation; beyond, events are dropped
MAX_PENDING = 10_000  # unprocessed rows in all
DROPPED_KEY = "assignments:events_dropped"
# Per source address, whatever the delivery (good, refused, malformed): one flooding sender is answered 429
# once it passes its share, so it can neither crowd out other senders nor fill the task queue that the
# assignments share. A real org sends a few events per leg; the default leaves ample room.
RATE_WINDOW = 60  # seconds
UNAUDITED_KEY = "assignments:webhook_refusals_unaudited"
# Processed rows are kept this long: longer than any sender retries (EventBridge: 4 days), so a
# late redelivery still finds its row and stays a duplicate.
RETENTION = timedelta(days=7)
TOPIC = re.compile(r"^v2\.detail\.events\.conversation\.(?P<cid>[^.]+)\.(?P<kind>user\.end|acw)$")
HOOK = Actor.system("event hook")

NO_SECRET = "The event hook is off: WRAPUP_WEBHOOK_SECRET is not set."
BAD_SECRET = "Missing or wrong X-Wrapup-Webhook-Secret."
TOO_LARGE = f"The body is larger than {MAX_BODY // 1024} KB."
NOT_JSON = "The body is not JSON."
NOT_OBJECT = "The body must be a JSON object."
NO_TOPIC = "No topic: send X-Wrapup-Event-Topic with a bare payload, or an EventBridge envelope."
UNKNOWN_TOPIC = "Unknown topic: only v2.detail.events.conversation.{id}.user.end and .acw are taken."
BAD_ID = "{name} must be a UUID."
TOPIC_MISMATCH = "The topic and the payload name different conversations."
FLOODED = "Too many events for this conversation are waiting; this one was dropped."
OVERLOADED = "Too many events are waiting; this one was dropped."
SOURCE_FLOODING = "Too many deliveries from this address; slow down (see Retry-After)."
NUL_CHARACTER = "The body holds a NUL character (\\u0000) or a lone surrogate, which no event carries."


class EventRejected(Exception):
    """The hook refuses a delivery; the message is the short reason the sender is told."""

    def __init__(self, message: str, *, status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class ParsedEvent:
    kind: str  # EventKind
    conversation_id: str
    participant_id: str
    user_id: str = ""
    queue_id: str = ""
    event_time: datetime | None = None
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        # One row per leg and kind: a leg ends once and its ACW ends once, whatever the
        # delivery (redelivery, bare and EventBridge both, the poller) says about it.
        return hashlib.sha256(f"{self.kind}:{self.conversation_id}:{self.participant_id}".encode()).hexdigest()


# --- the hook ---------------------------------------------------------------------------------------
def webhook_secret_check(given: str | None) -> None:
    """Raise ``EventRejected`` (401) unless ``given`` is the configured secret (constant time)."""
    expected = settings.WRAPUP_WEBHOOK_SECRET or ""
    if not expected:
        raise EventRejected(NO_SECRET, status=401)
    if not given or not hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode()):
        raise EventRejected(BAD_SECRET, status=401)


def source_address(request: HttpRequest) -> str:
    """The delivering address (REMOTE_ADDR, as the audit log records it: a forwarded header is the sender's word)."""
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).compressed
    except ValueError:
        return "unknown"


def _window_count(prefix: str, source: str, now: float) -> tuple[str, int]:
    """Add one to ``source``'s counter for the current window; returns (key, count so far)."""
    key = f"{prefix}:{source}:{int(now // RATE_WINDOW)}"
    cache.add(key, 0, timeout=2 * RATE_WINDOW)
    try:
        return key, cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=2 * RATE_WINDOW)
        return key, 1


def webhook_rate_check(*, source: str, now: float | None = None) -> None:
    """Raise ``EventRejected`` (429) once ``source`` has sent more than its share in this window."""
    limit = settings.WRAPUP_WEBHOOK_RATE_PER_MINUTE
    if limit <= 0:
        return
    now = time.time() if now is None else now
    _, count = _window_count("assignments:hook_rate", source, now)
    if count > limit:
        if count == limit + 1:
            logger.warning("event hook: %s sent more than %s deliveries in a minute; refusing the rest", source, limit)
        raise EventRejected(SOURCE_FLOODING, status=429, retry_after=RATE_WINDOW - int(now % RATE_WINDOW))


def webhook_rejected_record(*, request: HttpRequest, reason: str, now: float | None = None) -> bool:
    """Audit a refused delivery (no secret, wrong secret): the first per source address and minute.

    A flood of bad deliveries must not become a flood of audit events (the log is append-only and
    hash-chained: it cannot be pruned). The rest of that minute's refusals are counted, and the next
    audited refusal from the address says how many went unaudited before it. Returns whether audited.
    """
    source = source_address(request)
    now = time.time() if now is None else now
    _, count = _window_count("assignments:hook_refused", source, now)
    pending_key = f"assignments:hook_refused_unaudited:{source}"
    if count > 1:
        cache.add(pending_key, 0, timeout=None)
        cache.add(UNAUDITED_KEY, 0, timeout=None)
        for key in (pending_key, UNAUDITED_KEY):
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, timeout=None)
        return False
    unaudited = int(cache.get(pending_key) or 0)
    audit_record(action=Action.WEBHOOK_REJECTED, actor=HOOK, request=request, target_kind="webhook",
                 target_id="/hooks/genesys/events", outcome="rejected", reason=reason,
                 extra={"unaudited_before": unaudited} if unaudited else {})  # fmt: skip
    if unaudited:
        cache.delete(pending_key)
    return True


def webhook_refusals_unaudited() -> int:
    """Refused deliveries counted but not audited (beyond the first per address and minute), since the cache started."""
    return int(cache.get(UNAUDITED_KEY) or 0)


def event_body_read(request: HttpRequest) -> bytes:
    """At most ``MAX_BODY`` bytes of the body; a longer one is refused without reading it all."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY:
        raise EventRejected(TOO_LARGE)
    body = request.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise EventRejected(TOO_LARGE)
    return body


def event_parse(*, body: bytes, topic_header: str = "") -> ParsedEvent:
    """The event in a bare payload (topic from the header) or an EventBridge envelope (§7)."""
    try:
        data = json.loads(body, parse_constant=_refuse_constant)  # NaN/Infinity are not JSON
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise EventRejected(NOT_JSON) from None
    if not isinstance(data, dict):
        raise EventRejected(NOT_OBJECT)
    if has_unstorable_text(data):  # the databases cannot store these, and no real event carries them
        raise EventRejected(NUL_CHARACTER)
    detail = data.get("detail")
    if isinstance(detail, dict) and "eventBody" in detail:  # EventBridge: detail = {topicName, eventBody, …}
        topic, payload = detail.get("topicName") or data.get("detail-type"), detail.get("eventBody")
    else:
        topic, payload = topic_header, data
    if not topic:
        raise EventRejected(NO_TOPIC)
    match = TOPIC.match(topic) if isinstance(topic, str) else None
    if match is None:
        raise EventRejected(UNKNOWN_TOPIC)
    if not isinstance(payload, dict):
        raise EventRejected(NOT_OBJECT)
    cid, pid = _uuid(payload.get("conversationId"), "conversationId"), _uuid(payload.get("participantId"), "participantId")
    if match["cid"].lower() != cid:
        raise EventRejected(TOPIC_MISMATCH)
    user_id, queue_id = payload.get("userId"), payload.get("queueId")
    return ParsedEvent(
        kind=match["kind"], conversation_id=cid, participant_id=pid,
        user_id=user_id.lower() if isinstance(user_id, str) and is_uuid(user_id) else "",
        queue_id=queue_id.lower() if isinstance(queue_id, str) and is_uuid(queue_id) else "",
        event_time=_epoch_ms(payload.get("eventTime")), payload=payload,
    )  # fmt: skip


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _uuid(value: Any, name: str) -> str:
    if not isinstance(value, str) or not is_uuid(value.strip()):
        raise EventRejected(BAD_ID.format(name=name))
    return value.strip().lower()


def _epoch_ms(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=dt_timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def event_receive(*, event: ParsedEvent, via: str = "hook") -> tuple[ConversationEvent, bool]:
    """Store the event once and queue its processing; returns (row, created).

    A flood is bounded: beyond ``MAX_PENDING_PER_CONVERSATION`` unprocessed rows for one
    conversation (or ``MAX_PENDING`` in all) a new event is dropped, counted and refused (429),
    so a sender that retries later, and the poller meanwhile, still cover the leg.
    """
    existing = ConversationEvent.objects.filter(dedupe_key=event.dedupe_key).first()
    if existing is not None:
        return existing, False
    pending = ConversationEvent.objects.filter(processed_at__isnull=True)
    if pending.filter(conversation_id=event.conversation_id).count() >= MAX_PENDING_PER_CONVERSATION:
        _count_dropped(event)
        raise EventRejected(FLOODED, status=429)
    if pending.count() >= MAX_PENDING:
        _count_dropped(event)
        raise EventRejected(OVERLOADED, status=429)
    # ACW over with nothing waiting for the leg (the usual case: a rule's code ends ACW) needs no task.
    idle = event.kind == EventKind.ACW and not leg_waiting(event.conversation_id, event.participant_id).exists()
    try:
        with transaction.atomic():
            row = ConversationEvent.objects.create(
                kind=event.kind, conversation_id=event.conversation_id, participant_id=event.participant_id,
                user_id=event.user_id, queue_id=event.queue_id, dedupe_key=event.dedupe_key, via=via,
                payload=event.payload, event_time=event.event_time,
                **({"processed_at": timezone.now(), "outcome": EventOutcome.NOTHING} if idle else {}),
            )  # fmt: skip
            if not idle:
                transaction.on_commit(lambda: event_enqueue(row.pk))
    except IntegrityError:  # the same event, delivered twice at once: the other request stored it
        return ConversationEvent.objects.get(dedupe_key=event.dedupe_key), False
    return row, True


def _count_dropped(event: ParsedEvent) -> None:
    cache.add(DROPPED_KEY, 0, timeout=None)
    try:
        cache.incr(DROPPED_KEY)
    except ValueError:  # evicted between add and incr
        cache.set(DROPPED_KEY, 1, timeout=None)
    logger.warning("event dropped (flood): %s %s/%s", event.kind, event.conversation_id, event.participant_id)


def events_dropped() -> int:
    """How many events the flood bound dropped (since the cache last started)."""
    return int(cache.get(DROPPED_KEY) or 0)


def event_enqueue(event_id: int) -> None:
    # save=False: a success's result is the event row's outcome already (failures are still kept).
    async_task("wrapup_portal.assignments.tasks.events_process_task", event_id, task_name=f"event {event_id}",
               group="events", save=False)  # fmt: skip


def events_prune(*, now: datetime | None = None, limit: int = 5000) -> int:
    """Delete up to ``limit`` events processed more than ``RETENTION`` ago; returns how many."""
    cutoff = (now or timezone.now()) - RETENTION
    ids = list(ConversationEvent.objects.filter(processed_at__lt=cutoff).values_list("pk", flat=True)[:limit])
    return ConversationEvent.objects.filter(pk__in=ids).delete()[0] if ids else 0
