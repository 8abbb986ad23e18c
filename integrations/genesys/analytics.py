"""Results of the analytics conversation details endpoints (docs/genesys-api.md §5).

Analytics writes ``wrapUpCode`` (capital U) and puts either a wrap-up code id or a system
literal such as ``ININ-WRAP-UP-TIMEOUT`` in it. The two are different things to the portal (a
code it can name from the catalogue vs. "no code was chosen"), so they are two classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Union

from . import _parse as p

SYSTEM_CODE_PREFIX = "ININ-"
WRAP_UP_TIMEOUT = "ININ-WRAP-UP-TIMEOUT"
WRAP_UP_SKIPPED = "ININ-WRAP-UP-SKIPPED"
WRAP_UP_DELETED = "ININ-WRAP-UP-DELETED"


@dataclass(frozen=True)
class WrapupCodeId:
    """An analytics ``wrapUpCode`` that names a wrap-up code entity (possibly a deleted one)."""

    id: str

    @property
    def is_system(self) -> bool:
        return False

    def __str__(self) -> str:
        return self.id


@dataclass(frozen=True)
class SystemWrapupCode:
    """An analytics ``wrapUpCode`` that is a Genesys system literal (``ININ-…``), not an entity."""

    literal: str

    @property
    def is_system(self) -> bool:
        return True

    @property
    def is_timeout(self) -> bool:
        """The time-boxed ACW ran out with no code chosen."""
        return self.literal == WRAP_UP_TIMEOUT

    def __str__(self) -> str:
        return self.literal


AnalyticsWrapupCode = Union[WrapupCodeId, SystemWrapupCode]


def parse_wrapup_code(value: Any) -> AnalyticsWrapupCode | None:
    """Classify an analytics ``wrapUpCode``: None when absent, a system literal, or a code id.

    Anything that is not an ``ININ-`` literal is taken as a code id, even when it is not a UUID:
    hiding an unexpected value would hide exactly the data the portal exists to fix.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    if value.upper().startswith(SYSTEM_CODE_PREFIX):
        return SystemWrapupCode(value)
    return WrapupCodeId(value)


@dataclass(frozen=True)
class AnalyticsSegment:
    """One segment of a session; the wrap-up sits on ``segment_type == "wrapup"``."""

    segment_type: str | None
    segment_start: datetime | None
    segment_end: datetime | None = None
    queue_id: str | None = None
    wrap_up_code: AnalyticsWrapupCode | None = None
    wrap_up_note: str | None = None
    wrap_up_tags: tuple[str, ...] = ()
    disconnect_type: str | None = None
    error_code: str | None = None
    conference: bool = False

    @classmethod
    def from_api(cls, data: Any) -> AnalyticsSegment:
        data = p.as_mapping(data, "analytics segment")
        return cls(
            segment_type=p.opt_str(data, "segmentType"),
            segment_start=p.opt_time(data, "segmentStart", "segment"),
            segment_end=p.opt_time(data, "segmentEnd", "segment"),
            queue_id=p.opt_str(data, "queueId"),
            wrap_up_code=parse_wrapup_code(data.get("wrapUpCode")),
            wrap_up_note=p.opt_str(data, "wrapUpNote"),
            wrap_up_tags=p.str_tuple(data, "wrapUpTags"),
            disconnect_type=p.opt_str(data, "disconnectType"),
            error_code=p.opt_str(data, "errorCode"),
            conference=p.opt_bool(data, "conference"),
        )


@dataclass(frozen=True)
class AnalyticsSession:
    """A session of a participant (one per media leg)."""

    session_id: str | None
    media_type: str | None
    direction: str | None = None
    ani: str | None = None
    dnis: str | None = None
    remote: str | None = None
    acw_skipped: bool = False
    segments: tuple[AnalyticsSegment, ...] = ()

    @property
    def wrapup_segments(self) -> tuple[AnalyticsSegment, ...]:
        """The ``wrapup`` segments, where the code is reported."""
        return tuple(s for s in self.segments if s.segment_type == "wrapup")

    @classmethod
    def from_api(cls, data: Any) -> AnalyticsSession:
        data = p.as_mapping(data, "analytics session")
        return cls(
            session_id=p.opt_str(data, "sessionId"),
            media_type=p.opt_str(data, "mediaType"),
            direction=p.opt_str(data, "direction"),
            ani=p.opt_str(data, "ani"),
            dnis=p.opt_str(data, "dnis"),
            remote=p.opt_str(data, "remote"),
            acw_skipped=p.opt_bool(data, "acwSkipped"),
            segments=tuple(AnalyticsSegment.from_api(s) for s in p.obj_list(data, "segments")),
        )


@dataclass(frozen=True)
class AnalyticsParticipant:
    """A participant as analytics reports it (``participantId``, not ``id``)."""

    participant_id: str
    purpose: str | None = None
    participant_name: str | None = None
    user_id: str | None = None
    team_id: str | None = None
    sessions: tuple[AnalyticsSession, ...] = ()

    @property
    def wrap_up_code(self) -> AnalyticsWrapupCode | None:
        """The last wrap-up code reported on any of this participant's wrap-up segments."""
        codes = [s.wrap_up_code for sess in self.sessions for s in sess.wrapup_segments if s.wrap_up_code]
        return codes[-1] if codes else None

    @property
    def acw_begun(self) -> bool:
        """After-call work has started on this leg (it has a ``wrapup`` segment, open or closed)."""
        return any(sess.wrapup_segments for sess in self.sessions)

    @property
    def wrap_up_missing(self) -> bool:
        """ACW begun or over and no code at all: what "no wrap-up code" means to a team lead.

        Decided from this leg's own wrap-up segments, never by a ``wrapUpCode notExists``
        segment filter, which any interact segment of any participant satisfies.
        """
        return self.acw_begun and self.wrap_up_code is None

    @property
    def queue_ids(self) -> frozenset[str]:
        """The queues this leg's segments name (an agent leg names the queue it came from)."""
        return frozenset(s.queue_id for sess in self.sessions for s in sess.segments if s.queue_id)

    @property
    def media_types(self) -> frozenset[str]:
        return frozenset(sess.media_type for sess in self.sessions if sess.media_type)

    @property
    def leg_state(self) -> str:
        """``connected`` (talking, no ACW yet), ``acw`` (a wrap-up segment still open) or ``final``."""
        segments = [s for sess in self.sessions for s in sess.segments]
        wrapups = [s for s in segments if s.segment_type == "wrapup"]
        if wrapups:
            return "acw" if any(s.segment_end is None for s in wrapups) else "final"
        interacts = [s for s in segments if s.segment_type == "interact"]
        return "final" if interacts and all(s.segment_end is not None for s in interacts) else "connected"

    @classmethod
    def from_api(cls, data: Any) -> AnalyticsParticipant:
        data = p.as_mapping(data, "analytics participant")
        return cls(
            participant_id=p.req_str(data, "participantId", "analytics participant"),
            purpose=p.opt_str(data, "purpose"),
            participant_name=p.opt_str(data, "participantName"),
            user_id=p.opt_str(data, "userId"),
            team_id=p.opt_str(data, "teamId"),
            sessions=tuple(AnalyticsSession.from_api(s) for s in p.obj_list(data, "sessions")),
        )


@dataclass(frozen=True)
class AnalyticsConversation:
    """One conversation of a details query; ``conversation_end`` is None while it is in progress."""

    conversation_id: str
    conversation_start: datetime
    conversation_end: datetime | None = None
    originating_direction: str | None = None
    division_ids: tuple[str, ...] = ()
    external_tag: str | None = None
    participants: tuple[AnalyticsParticipant, ...] = ()

    @classmethod
    def from_api(cls, data: Any) -> AnalyticsConversation:
        data = p.as_mapping(data, "analytics conversation")
        cid = p.req_str(data, "conversationId", "analytics conversation")
        return cls(
            conversation_id=cid,
            conversation_start=p.parse_time(data.get("conversationStart"), f"conversation {cid}.conversationStart"),
            conversation_end=p.opt_time(data, "conversationEnd", f"conversation {cid}"),
            originating_direction=p.opt_str(data, "originatingDirection"),
            division_ids=p.str_tuple(data, "divisionIds"),
            external_tag=p.opt_str(data, "externalTag"),
            participants=tuple(AnalyticsParticipant.from_api(x) for x in p.obj_list(data, "participants")),
        )


@dataclass(frozen=True)
class ConversationDetailsPage:
    """One page of ``POST /api/v2/analytics/conversations/details/query``.

    ``total_hits`` is approximate and shifts as data arrives; never use it to stop paging.
    """

    conversations: tuple[AnalyticsConversation, ...]
    total_hits: int | None
    page_number: int
    page_size: int

    @classmethod
    def from_api(cls, data: Any, *, page_number: int, page_size: int) -> ConversationDetailsPage:
        data = p.as_mapping(data, "conversation details query result")
        # An empty result omits "conversations" altogether.
        items = tuple(AnalyticsConversation.from_api(c) for c in p.obj_list(data, "conversations"))
        return cls(items, p.opt_int(data, "totalHits"), page_number, page_size)
