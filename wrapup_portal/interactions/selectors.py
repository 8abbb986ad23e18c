"""Reads for the interactions pages and ``find_interactions``: search, detail, live board.

Every read goes through the analytics API (one call per page of up to 100 conversations);
names come from the catalog (queues, codes) and from analytics itself (``participantName``),
so filling a table costs no per-row calls. Answers are cached briefly (``CACHE_SECONDS``)
under a generation that the portal moves on whenever it writes a wrap-up (``core.read_cache``), so the
cache never shows a code the portal itself has since changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from integrations.genesys import AnalyticsConversation, AnalyticsParticipant, ConversationQuery
from integrations.genesys.analytics import SYSTEM_CODE_PREFIX, WRAP_UP_TIMEOUT
from wrapup_portal.audit.models import AuditEvent
from wrapup_portal.catalog.models import CodeGroup, WrapupCode
from wrapup_portal.core.genesys import get_genesys_client
from wrapup_portal.core.read_cache import CACHED_READ_SECONDS, conversation_generation, reads_generation
from wrapup_portal.interactions.search import Search, WrapupState

CACHE_SECONDS = CACHED_READ_SECONDS
BOARD_CACHE_SECONDS = 5
BOARD_LOOKBACK = timedelta(hours=4)
RECENT_TIMEOUTS = timedelta(minutes=30)
BOARD_MAX_PAGES = 10  # 1,000 conversations with a leg in ACW at once, over the whole organisation
EXPORT_MAX_PAGES = 100  # 10,000 conversations; the export says so when it stops there

SYSTEM_LABELS = {
    WRAP_UP_TIMEOUT: "Timed out (no code chosen)",
    "ININ-WRAP-UP-SKIPPED": "Skipped by the agent",
    "ININ-WRAP-UP-DELETED": "Code deleted",
}
TIMED_PROMPTS = {"MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT", "AGENT_REQUESTED"}


def system_label(literal: str) -> str:
    """A readable label for an ``ININ-*`` literal; unknown ones keep their text."""
    if literal in SYSTEM_LABELS:
        return SYSTEM_LABELS[literal]
    if literal.upper().startswith("ININ-OUTBOUND-"):
        return f"Dialer: {literal[len('ININ-OUTBOUND-'):]}"
    return literal


@dataclass(frozen=True)
class LegRow:
    """One agent leg as the search table, the CSV export and ``find_interactions`` show it."""

    conversation_id: str
    participant_id: str
    conversation_start: datetime
    leg_start: datetime | None
    duration_seconds: int | None
    queue_id: str
    queue_name: str
    user_id: str
    agent_name: str
    media_type: str
    direction: str
    wrapup_code: str  # a code id, an ININ-* literal, or ""
    code_name: str
    code_retired: bool
    state: str  # connected | acw | final
    wrapup_notes: str = ""
    acw_started: datetime | None = None
    acw_ended: datetime | None = None
    acw_deadline: datetime | None = None

    @property
    def is_system(self) -> bool:
        return self.wrapup_code.upper().startswith(SYSTEM_CODE_PREFIX)


@dataclass(frozen=True)
class ResultPage:
    rows: tuple[LegRow, ...]
    page_number: int
    has_next: bool
    conversations: int  # conversations Genesys returned on this page


@dataclass
class Names:
    """Queue and code names from the catalog, looked up once per page."""

    queues: dict[str, CodeGroup] = field(default_factory=dict)
    codes: dict[str, WrapupCode] = field(default_factory=dict)

    @classmethod
    def for_conversations(cls, conversations: Iterable[AnalyticsConversation]) -> Names:
        queue_ids: set[str] = set()
        code_ids: set[str] = set()
        for conversation in conversations:
            for leg in conversation.participants:
                queue_ids |= leg.queue_ids
                if leg.wrap_up_code is not None and not leg.wrap_up_code.is_system:
                    code_ids.add(str(leg.wrap_up_code))
        return cls(
            queues={g.queue_id: g for g in CodeGroup.objects.filter(queue_id__in=queue_ids)},
            codes={c.code_id: c for c in WrapupCode.objects.filter(code_id__in=code_ids)},
        )

    def code_name(self, code: str) -> tuple[str, bool]:
        """(name, retired) of a code id or literal; an id the catalog never saw stays an id."""
        if not code:
            return "", False
        if code.upper().startswith(SYSTEM_CODE_PREFIX):
            return system_label(code), False
        known = self.codes.get(code)
        return (known.name, not known.active) if known else (code, False)


def _leg_row(conversation: AnalyticsConversation, leg: AnalyticsParticipant, names: Names) -> LegRow:
    segments = [s for sess in leg.sessions for s in sess.segments]
    starts = [s.segment_start for s in segments if s.segment_start]
    ends = [s.segment_end for s in segments if s.segment_end]
    leg_start = min(starts) if starts else None
    state = leg.leg_state
    duration = None
    if leg_start and ends and state == "final":
        duration = int((max(ends) - leg_start).total_seconds())
    queue_id = next((s.queue_id for s in segments if s.queue_id), "")
    group = names.queues.get(queue_id)
    code = str(leg.wrap_up_code or "")
    code_name, retired = names.code_name(code)
    wrapups = [s for s in segments if s.segment_type == "wrapup"]
    acw_started = wrapups[-1].segment_start if wrapups else None
    deadline = None
    if acw_started and group and group.wrapup_prompt in TIMED_PROMPTS and group.acw_timeout_ms:
        deadline = acw_started + timedelta(milliseconds=group.acw_timeout_ms)
    notes = next((s.wrap_up_note for s in reversed(wrapups) if s.wrap_up_note), "")
    session = leg.sessions[0] if leg.sessions else None
    return LegRow(
        conversation_id=conversation.conversation_id,
        participant_id=leg.participant_id,
        conversation_start=conversation.conversation_start,
        leg_start=leg_start,
        duration_seconds=duration,
        queue_id=queue_id,
        queue_name=group.name if group else queue_id,
        user_id=leg.user_id or "",
        agent_name=leg.participant_name or leg.user_id or "",
        media_type=(session.media_type or "") if session else "",
        direction=(session.direction or "") if session else "",
        wrapup_code=code,
        code_name=code_name,
        code_retired=retired,
        state=state,
        wrapup_notes=notes or "",
        acw_started=acw_started,
        acw_ended=wrapups[-1].segment_end if wrapups else None,
        acw_deadline=deadline,
    )




def _cache_key(kind: str, payload: object) -> str:
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return f"interactions:{kind}:{reads_generation()}:{digest}"


def _details_page(query: ConversationQuery, *, seconds: int = CACHE_SECONDS) -> list[AnalyticsConversation]:
    """One page of conversations, deduplicated by id, from the cache or one Genesys call."""
    key = _cache_key("page", query.to_dict())
    conversations = cache.get(key)
    if conversations is None:
        page = get_genesys_client().query_conversation_details(query)
        conversations = list({c.conversation_id: c for c in page.conversations}.values())
        cache.set(key, conversations, seconds)
    return conversations


def _rows(search: Search, query: ConversationQuery, conversations: list[AnalyticsConversation]) -> list[LegRow]:
    names = Names.for_conversations(conversations)
    return [
        _leg_row(conversation, leg, names)
        for conversation in conversations
        for leg in query.matching_legs(conversation)
        if search.keeps(leg)
    ]


def interaction_search_page(*, search: Search, page_number: int = 1) -> ResultPage:
    """One page of results: the agent legs of up to 100 conversations (one Genesys call, or none).

    A conversation repeated from the previous page (Genesys pages over live data) is left out
    when that page is still cached.
    """
    query = search.query(page_number)
    conversations = _details_page(query)
    has_next = len(conversations) >= query.page_size  # a short page is the last one
    if page_number > 1:
        previous = cache.get(_cache_key("page", search.query(page_number - 1).to_dict())) or []
        seen = {c.conversation_id for c in previous}
        conversations = [c for c in conversations if c.conversation_id not in seen]
    rows = _rows(search, query, conversations)
    return ResultPage(tuple(rows), page_number, has_next, len(conversations))


def interaction_search_all(*, search: Search, max_pages: int = EXPORT_MAX_PAGES) -> Iterator[LegRow | None]:
    """Every matching leg over every page, deduplicated; yields None last if ``max_pages`` cut it short."""
    seen: set[str] = set()
    for number in range(1, max_pages + 1):
        query = search.query(number)
        conversations = _details_page(query)
        fresh = [c for c in conversations if c.conversation_id not in seen]
        seen.update(c.conversation_id for c in fresh)
        yield from _rows(search, query, fresh)
        if len(conversations) < query.page_size:
            return
    yield None


@dataclass(frozen=True)
class Detail:
    conversation: AnalyticsConversation
    legs: tuple[tuple[LegRow, str], ...]  # agent legs with who set the code: agent | timeout | system | portal | ""
    timeline: tuple[dict[str, object], ...]  # every segment of every participant, by start
    history: tuple[AuditEvent, ...]


def interaction_detail(*, conversation_id: str, allowed: set[str] | None) -> Detail | None:
    """A conversation's legs, timeline and the portal's history for it; None if not the user's.

    A team lead sees a conversation when one of its agent legs is on a queue granted to them;
    otherwise it is as if it did not exist (None), so ids cannot be probed.
    """
    key = _cache_key("detail", [conversation_id, conversation_generation(conversation_id)])
    conversation = cache.get(key)
    if conversation is None:
        conversation = get_genesys_client().get_conversation_details(conversation_id)
        cache.set(key, conversation, CACHE_SECONDS)
    agent_legs = [p for p in conversation.participants if p.purpose == "agent"]
    if allowed is not None and not any(leg.queue_ids & allowed for leg in agent_legs):
        return None
    names = Names.for_conversations([conversation])
    rows = [_leg_row(conversation, leg, names) for leg in agent_legs]
    timeline = []
    for participant in conversation.participants:
        for session in participant.sessions:
            for segment in session.segments:
                timeline.append({
                    "participant": participant.participant_name or participant.purpose or "",
                    "purpose": participant.purpose or "", "participant_id": participant.participant_id,
                    "type": segment.segment_type or "", "start": segment.segment_start, "end": segment.segment_end,
                    "queue": names.queues[segment.queue_id].name if segment.queue_id in names.queues else (segment.queue_id or ""),
                    "code": names.code_name(str(segment.wrap_up_code or ""))[0], "disconnect": segment.disconnect_type or "",
                })  # fmt: skip
    timeline.sort(key=lambda s: (s["start"] is None, s["start"]))
    history = tuple(AuditEvent.objects.filter(conversation_id=conversation_id).order_by("sequence"))
    legs = tuple((row, _set_by(row, history)) for row in rows)
    return Detail(conversation, legs, tuple(timeline), history)


def _set_by(leg: LegRow, history: tuple[AuditEvent, ...]) -> str:
    if not leg.wrapup_code:
        return ""
    if leg.wrapup_code == WRAP_UP_TIMEOUT:
        return "timeout"
    if leg.is_system:
        return "system"
    # The portal's own write of this very code (an event with outcome "applied") makes it the portal's.
    portal = [e for e in history if e.participant_id == leg.participant_id and e.code_after_id == leg.wrapup_code
              and e.outcome == "applied"]  # fmt: skip
    return "portal" if portal else "agent"


@dataclass(frozen=True)
class Board:
    in_acw: tuple[LegRow, ...]  # no code yet, soonest deadline first
    timed_out: tuple[LegRow, ...]  # ININ-WRAP-UP-TIMEOUT in the last RECENT_TIMEOUTS
    as_of: datetime


def acw_board(*, allowed: set[str] | None, now: datetime | None = None) -> Board:
    """Agent legs in after-call work right now without a code, and legs that recently timed out.

    One query over every queue serves every user (each sees their own queues' legs): a board
    refreshing every few seconds for each lead would otherwise spend the deployment's quota.
    """
    now = now or timezone.now()
    if allowed is not None and not allowed:
        return Board((), (), now)
    board = _board_all_queues(now)
    if allowed is None:
        return board
    return Board(tuple(r for r in board.in_acw if r.queue_id in allowed),
                 tuple(r for r in board.timed_out if r.queue_id in allowed), board.as_of)  # fmt: skip


def _board_all_queues(now: datetime) -> Board:
    # The interval moves by whole minutes, so refreshes within a minute share cache entries
    # (each lives BOARD_CACHE_SECONDS); its end runs ahead so the newest legs are inside.
    minute = now.replace(second=0, microsecond=0)
    waiting_search = Search(start=minute - BOARD_LOOKBACK, end=minute + timedelta(minutes=2), wrapup=WrapupState.NONE)
    in_acw: list[LegRow] = []
    for number in range(1, BOARD_MAX_PAGES + 1):
        query = _board_query(waiting_search, number, acw_open=True)
        conversations = _details_page(query, seconds=BOARD_CACHE_SECONDS)
        in_acw.extend(_rows(waiting_search, query, conversations))
        if len(conversations) < query.page_size:
            break
    timeout_search = Search(start=minute - RECENT_TIMEOUTS, end=minute + timedelta(minutes=2), wrapup=WrapupState.TIMEOUT)
    query = _board_query(timeout_search, 1, acw_open=False)
    recent = [
        row for row in _rows(timeout_search, query, _details_page(query, seconds=BOARD_CACHE_SECONDS))
        if row.acw_ended is not None and row.acw_ended >= now - RECENT_TIMEOUTS
    ]
    far = now + timedelta(days=1)
    in_acw.sort(key=lambda r: (r.acw_deadline or far, r.acw_started or far))
    recent.sort(key=lambda r: r.acw_ended or now, reverse=True)
    return Board(tuple(in_acw), tuple(recent), now)


def _board_query(search: Search, page_number: int, *, acw_open: bool) -> ConversationQuery:
    return dataclasses.replace(search.query(page_number), ended_only=False, acw_open=acw_open)
