"""A typed builder for the analytics ConversationQuery the search page needs (docs/genesys-api.md §5).

``ConversationQuery(...).to_dict()`` is the API's own JSON. Filters live in the list that owns
their dimension (a dimension in the wrong list is invalid): conversation dimensions
(``conversationId``, ``conversationEnd``, ``divisionId``) in ``conversationFilters``, the others
in ``segmentFilters``. Several values of one dimension are OR-ed; different dimensions AND-ed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ._parse import check_id
from .analytics import SYSTEM_CODE_PREFIX, AnalyticsConversation, AnalyticsParticipant
from .errors import InvalidArgumentError

MAX_PAGE_SIZE = 100  # the portal's page size; the reference leaves the real maximum UNVERIFIED
MEDIA_TYPES = frozenset(
    {"callback", "chat", "cobrowse", "email", "internalmessage", "message", "screenmonitoring", "screenshare", "unknown", "video", "voice"}
)
DIRECTIONS = frozenset({"inbound", "outbound"})
PURPOSES = frozenset(
    {"acd", "agent", "api", "botflow", "campaign", "customer", "dialer", "external", "fax", "group", "inbound", "ivr",
     "manual", "outbound", "station", "user", "voicemail", "voicesurveyflow", "workflow"}
)  # fmt: skip
ORDERS = frozenset({"asc", "desc", "unordered"})
ORDER_BYS = frozenset({"conversationStart", "conversationEnd", "segmentStart", "segmentEnd"})


def _predicate(dimension: str, value: str | None = None, operator: str = "matches") -> dict[str, Any]:
    pred: dict[str, Any] = {"type": "dimension", "dimension": dimension, "operator": operator}
    if value is not None:
        pred["value"] = value
    return pred


def _iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _ids(values: Any, what: str) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    return tuple(dict.fromkeys(check_id(v, what) for v in values or ()))


def _enum(value: str | None, allowed: frozenset[str], what: str) -> str | None:
    if value is None:
        return None
    if value not in allowed:
        raise InvalidArgumentError(f"{what} must be one of {', '.join(sorted(allowed))}; got {str(value)[:40]!r}.")
    return value


def _code(value: Any) -> str:
    """A wrap-up code filter value: a code id, or an ``ININ-*`` system literal taken as is."""
    if isinstance(value, str) and value.strip().upper().startswith(SYSTEM_CODE_PREFIX):
        literal = value.strip()
        if len(literal) > 100 or not literal.replace("-", "").replace("_", "").isalnum():
            raise InvalidArgumentError(f"Malformed system wrap-up code {literal[:60]!r}.")
        return literal
    return check_id(value, "wrap-up code")


def _address(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise InvalidArgumentError(f"{what} must be a non-empty text of at most 200 characters.")
    return value.strip()


@dataclass(frozen=True)
class ConversationQuery:
    """The search page's filters as an analytics conversation details query.

    ``wrapup_codes`` (ids or ``ININ-*`` literals) and ``wrapup_code_missing`` are OR-ed, so
    "timed out or no code" is ``wrapup_codes=("ININ-WRAP-UP-TIMEOUT",), wrapup_code_missing=True``.
    ``ended_only`` (``conversationEnd exists``) is on by default, as the reference advises;
    ``acw_open`` keeps agent legs whose after-call work is under way (the live board).

    Genesys matches segment filters conversation by conversation, each filter by some one
    segment, so what comes back is a superset: another leg may have met the queue filter, and
    "no code" cannot be asked of a segment at all. ``matching_legs`` picks the agent legs that
    meet every filter themselves; callers list those, never the raw participants.
    """

    start: datetime
    end: datetime
    conversation_id: str | None = None
    ended_only: bool = True
    division_ids: tuple[str, ...] = ()
    user_ids: tuple[str, ...] = ()
    queue_ids: tuple[str, ...] = ()
    wrapup_codes: tuple[str, ...] = ()
    wrapup_code_missing: bool = False
    wrapup_code_present: bool = False
    acw_open: bool = False
    media_types: tuple[str, ...] = ()
    direction: str | None = None
    purpose: str | None = None
    ani: str | None = None
    dnis: str | None = None
    order: str = "desc"
    order_by: str = "conversationStart"
    page_size: int = MAX_PAGE_SIZE
    page_number: int = 1

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise InvalidArgumentError(f"The interval {name} must be a timezone-aware datetime.")
        if self.end <= self.start:
            raise InvalidArgumentError("The interval must end after it starts.")
        set_ = object.__setattr__  # frozen: normalise once, here
        if self.conversation_id is not None:
            set_(self, "conversation_id", check_id(self.conversation_id, "conversation id"))
        set_(self, "division_ids", _ids(self.division_ids, "division id"))
        set_(self, "user_ids", _ids(self.user_ids, "user id"))
        set_(self, "queue_ids", _ids(self.queue_ids, "queue id"))
        codes = (self.wrapup_codes,) if isinstance(self.wrapup_codes, str) else self.wrapup_codes
        set_(self, "wrapup_codes", tuple(dict.fromkeys(_code(c) for c in codes or ())))
        medias = (self.media_types,) if isinstance(self.media_types, str) else self.media_types
        set_(self, "media_types", tuple(dict.fromkeys(_enum(m, MEDIA_TYPES, "media type") for m in medias or ())))  # type: ignore[misc]
        _enum(self.direction, DIRECTIONS, "direction")
        _enum(self.purpose, PURPOSES, "purpose")
        _enum(self.order, ORDERS, "order")
        _enum(self.order_by, ORDER_BYS, "orderBy")
        set_(self, "ani", _address(self.ani, "ani"))
        set_(self, "dnis", _address(self.dnis, "dnis"))
        if self.wrapup_code_present and (self.wrapup_code_missing or self.wrapup_codes):
            raise InvalidArgumentError("wrapup_code_present cannot be combined with other wrap-up code filters.")
        if self.acw_open and self.ended_only:
            raise InvalidArgumentError("acw_open needs ended_only=False: a conversation in after-call work has not ended.")
        if isinstance(self.page_size, bool) or not isinstance(self.page_size, int) or not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise InvalidArgumentError(f"page_size must be between 1 and {MAX_PAGE_SIZE}.")
        if isinstance(self.page_number, bool) or not isinstance(self.page_number, int) or self.page_number < 1:
            raise InvalidArgumentError("page_number must be 1 or more.")

    @classmethod
    def last(cls, delta: timedelta, *, now: datetime | None = None, **filters: Any) -> ConversationQuery:
        """Conversations of the last ``delta``, ending one minute ago (late data settles meanwhile)."""
        end = (now or datetime.now(timezone.utc)) - timedelta(minutes=1)
        return cls(start=end - delta, end=end, **filters)

    def page(self, page_number: int) -> ConversationQuery:
        """The same query for another page."""
        return dataclasses.replace(self, page_number=page_number)

    def to_dict(self) -> dict[str, Any]:
        """The ConversationQuery JSON for ``POST /api/v2/analytics/conversations/details/query``."""
        body: dict[str, Any] = {
            "interval": f"{_iso(self.start)}/{_iso(self.end)}",
            "order": self.order,
            "orderBy": self.order_by,
            "paging": {"pageSize": self.page_size, "pageNumber": self.page_number},
        }
        conv_and = []
        if self.ended_only:
            conv_and.append(_predicate("conversationEnd", operator="exists"))
        if self.conversation_id:
            conv_and.append(_predicate("conversationId", self.conversation_id))
        conversation_filters = _filters(conv_and, [("divisionId", self.division_ids)])
        seg_and = [
            _predicate(dim, value)
            for dim, value in (("purpose", self.purpose), ("direction", self.direction), ("ani", self.ani), ("dnis", self.dnis))
            if value is not None
        ]
        segment_filters = _filters(
            seg_and, [("queueId", self.queue_ids), ("userId", self.user_ids), ("mediaType", self.media_types)]
        )
        wrapup_filter = self._wrapup_filter()
        if wrapup_filter:
            segment_filters.append(wrapup_filter)
        if self.acw_open:
            # An agent leg whose wrap-up segment has not ended: after-call work under way.
            segment_filters.append({"type": "and", "predicates": [
                _predicate("purpose", "agent"), _predicate("segmentType", "wrapup"),
                _predicate("segmentEnd", operator="notExists")]})  # fmt: skip
        if conversation_filters:
            body["conversationFilters"] = conversation_filters
        if segment_filters:
            body["segmentFilters"] = segment_filters
        return body

    def _wrapup_filter(self) -> dict[str, Any] | None:
        # The code predicate and segmentType=wrapup share one clause, so one and the same
        # wrap-up segment must carry the code. A lone "wrapUpCode notExists" would be met by
        # every interact segment and return everything; "no code" is therefore asked as
        # "an agent leg reached ACW" and decided per leg by matching_legs.
        wrapup = _predicate("segmentType", "wrapup")
        if self.wrapup_code_missing:
            return {"type": "and", "predicates": [_predicate("purpose", "agent"), wrapup]}
        if self.wrapup_code_present:
            return {"type": "and", "predicates": [wrapup, _predicate("wrapUpCode", operator="exists")]}
        clauses = [{"type": "and", "predicates": [wrapup, _predicate("wrapUpCode", code)]} for code in self.wrapup_codes]
        if len(clauses) > 1:
            return {"type": "or", "clauses": clauses}
        return clauses[0] if clauses else None

    def matching_legs(self, conversation: AnalyticsConversation) -> tuple[AnalyticsParticipant, ...]:
        """The agent legs of a returned conversation that meet every leg-level filter themselves."""
        return tuple(leg for leg in conversation.participants if self._leg_matches(leg))

    def _leg_matches(self, leg: AnalyticsParticipant) -> bool:
        if leg.purpose != (self.purpose or "agent"):
            return False
        if self.queue_ids and not leg.queue_ids & set(self.queue_ids):
            return False
        if self.user_ids and leg.user_id not in self.user_ids:
            return False
        if self.media_types and not leg.media_types & set(self.media_types):
            return False
        for attribute in ("direction", "ani", "dnis"):
            wanted = getattr(self, attribute)
            if wanted is not None and not any(
                (getattr(sess, attribute) or "").lower() == wanted.lower() for sess in leg.sessions
            ):
                return False
        if self.acw_open and leg.leg_state != "acw":
            return False
        return self._wrapup_matches(leg)

    def _wrapup_matches(self, leg: AnalyticsParticipant) -> bool:
        code = leg.wrap_up_code
        if self.wrapup_code_present:
            return code is not None
        if not (self.wrapup_code_missing or self.wrapup_codes):
            return True
        if self.wrapup_code_missing and leg.wrap_up_missing:
            return True
        return code is not None and str(code).lower() in {c.lower() for c in self.wrapup_codes}


def _filters(and_predicates: list[dict[str, Any]], any_of: list[tuple[str, tuple[str, ...]]]) -> list[dict[str, Any]]:
    """One AND filter for single-valued dimensions, then one OR filter per multi-valued dimension."""
    filters: list[dict[str, Any]] = []
    if and_predicates:
        filters.append({"type": "and", "predicates": and_predicates})
    for dimension, values in any_of:
        if len(values) == 1:
            if filters and filters[0]["type"] == "and":
                filters[0]["predicates"].append(_predicate(dimension, values[0]))
            else:
                filters.insert(0, {"type": "and", "predicates": [_predicate(dimension, values[0])]})
        elif values:
            filters.append({"type": "or", "predicates": [_predicate(dimension, v) for v in values]})
    return filters
