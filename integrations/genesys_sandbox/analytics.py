"""``POST /api/v2/analytics/conversations/details/query``: validation, filtering, paging.

Semantics chosen where the reference is silent (documented in README.md):
- interval: conversations active during the interval whose start falls on a UTC day the
  interval touches ("started on a day touched by the interval");
- a segment filter matches a conversation when one segment satisfies the whole filter,
  predicates seeing that segment's participant and session fields too;
- several filters in one list must all match.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from .analytics_rows import ConversationFacts, segment_rows
from .clock import parse_iso
from .model import Conversation
from .orggen import Org
from .web import ApiError

CONVERSATION_DIMENSIONS = frozenset({
    "conversationId", "conversationStart", "conversationEnd", "divisionId", "originatingDirection",
    "externalTag", "conversationInitiator", "customerParticipation", "mediaStatsMinConversationMos"})
SEGMENT_DIMENSIONS = frozenset(
    "addressFrom addressOther addressSelf addressTo agentScore ani audioMuted callbackNumber callbackScheduledTime "
    "callbackUserName cobrowseRole cobrowseRoomId conference destinationConversationId destinationSessionId direction "
    "disconnectType dispositionAnalyzer dispositionName dnis edgeId endingLanguage entryReason entryType errorCode "
    "exitReason externalContactId externalOrganizationId flaggedReason flowId flowName flowOutcome "
    "flowOutcomeEndTimestamp flowOutcomeId flowOutcomeStartTimestamp flowOutcomeValue flowType flowVersion groupId "
    "issuedCallback journeyActionId journeyActionMapId journeyActionMapVersion journeyCustomerId journeyCustomerIdType "
    "journeyCustomerSessionId journeyCustomerSessionIdType mediaBridgeId mediaType messageType monitoredParticipantId "
    "outboundCampaignId outboundContactId outboundContactListId participantId participantName peerId protocolCallId "
    "provider purpose q850ResponseCode queueId remote recording remoteNameDisplayable requestedLanguageId "
    "requestedRoutingSkillId requestedRoutingUserId roomId scoredAgentId screenShareAddressSelf screenShareRoomId "
    "scriptId segmentEnd segmentType sessionDnis sessionId sharingScreen sipResponseCode skipEnabled "
    "sourceConversationId sourceSessionId startingLanguage subject teamId timeoutSeconds transferTargetAddress "
    "transferTargetName transferType userId videoAddressSelf videoMuted videoRoomId wrapUpCode wrapUpNote "
    "wrapUpTag".split())
TIME_DIMENSIONS = frozenset({"conversationStart", "conversationEnd", "segmentEnd", "segmentStart"})
BODY_KEYS = frozenset({"interval", "order", "orderBy", "paging", "conversationFilters", "segmentFilters",
                       "evaluationFilters", "surveyFilters", "resolutionFilters", "aggregations",
                       "startOfDayIntervalMatching"})
ORDER_BY = ("conversationStart", "conversationEnd", "segmentStart", "segmentEnd")
PREFILTER = ("queueId", "userId", "mediaType", "wrapUpCode")

Pred = Callable[[Any], bool]  # takes a Row or ConversationFacts (anything with .get)


def bad(message: str) -> ApiError:
    """A 400 ``bad.request`` with a precise message."""
    return ApiError(400, message)


def parse_interval(text: Any) -> tuple[float, float]:
    """``start/end`` ISO-8601 → epoch seconds; 400 when malformed or empty."""
    if not isinstance(text, str) or "/" not in text:
        raise bad("interval is required, as 'start/end' in ISO-8601")
    try:
        start, end = (parse_iso(part) for part in text.split("/", 1))
    except ValueError:
        raise bad(f"Invalid interval '{text}'") from None
    if end <= start:
        raise bad("interval end must be after its start")
    return start, end


def _compile_predicate(pred: Any, dimensions: frozenset[str], where: str) -> tuple[Pred, tuple[str, str] | None]:
    if not isinstance(pred, dict):
        raise bad(f"{where}: predicates must be objects")
    kind = pred.get("type", "dimension")
    operator = pred.get("operator", "matches")
    if operator not in ("matches", "exists", "notExists"):
        raise bad(f"{where}: invalid operator '{operator}'")
    if kind == "dimension":
        name = pred.get("dimension")
        if name not in dimensions:
            raise bad(f"{where}: invalid dimension '{name}'")
    elif kind == "metric":
        name = pred.get("metric")
        if name != "tSegmentDuration" or where != "segmentFilters":
            raise bad(f"{where}: invalid metric '{name}'")
    elif kind == "property":
        name = f"property:{pred.get('property')}"
    else:
        raise bad(f"{where}: invalid predicate type '{kind}'")
    value, rng = pred.get("value"), pred.get("range")
    if operator != "matches":
        return ((lambda row: row.get(name) is not None) if operator == "exists"
                else (lambda row: row.get(name) is None)), None
    if rng is not None:
        return _range_predicate(name, rng, where), None
    if value is None:
        raise bad(f"{where}: a 'matches' predicate on '{name}' needs a value or a range")
    if name in TIME_DIMENSIONS:
        raise bad(f"{where}: '{name}' takes a range, not a value")
    wanted = str(value).lower()

    def matches(row: Any) -> bool:
        got = row.get(name)
        if type(got) is str:  # the common case first: this runs for every segment of every candidate
            return got.lower() == wanted
        if isinstance(got, (list, tuple, set, frozenset)):
            return any(str(item).lower() == wanted for item in got)
        return got is not None and str(got).lower() == wanted

    return matches, (name, wanted)


def _range_predicate(name: str, rng: Any, where: str) -> Pred:
    if not isinstance(rng, dict) or not set(rng) & {"gt", "gte", "lt", "lte"} or set(rng) - {"gt", "gte", "lt", "lte"}:
        raise bad(f"{where}: invalid range for '{name}'")
    bounds: dict[str, float] = {}
    for key, raw in rng.items():
        try:
            bounds[key] = parse_iso(raw) if name in TIME_DIMENSIONS else float(raw)
        except (TypeError, ValueError):
            raise bad(f"{where}: invalid range value {raw!r} for '{name}'") from None

    def in_range(row: dict[str, Any]) -> bool:
        got = row.get(name)
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            return False
        return (("gt" not in bounds or got > bounds["gt"]) and ("gte" not in bounds or got >= bounds["gte"])
                and ("lt" not in bounds or got < bounds["lt"]) and ("lte" not in bounds or got <= bounds["lte"]))

    return in_range


def compile_filter(flt: Any, dimensions: frozenset[str], where: str, depth: int = 0) -> tuple[Pred, list[list[tuple[str, str]]]]:
    """Compile ``{type, predicates, clauses}`` into a predicate over a row.

    Also returns, for the prefilter, the ``matches`` values that must each be met
    (``and``: one list per predicate; ``or``: a single list of alternatives).
    """
    if not isinstance(flt, dict) or flt.get("type") not in ("and", "or"):
        raise bad(f"{where}: each filter needs type 'and' or 'or'")
    if depth > 1 or (depth and flt.get("clauses")):
        raise bad(f"{where}: clauses allow at most two levels of nesting")
    preds, needs = [], []
    for pred in flt.get("predicates") or []:
        fn, need = _compile_predicate(pred, dimensions, where)
        preds.append(fn)
        needs.append(need)
    for clause in flt.get("clauses") or []:
        fn, _ = compile_filter(clause, dimensions, where, depth + 1)
        preds.append(fn)
        needs.append(None)
    if not preds:
        raise bad(f"{where}: a filter needs predicates or clauses")
    # Plain loops, not all()/any() over generators: this is the innermost loop of a query.
    if flt["type"] == "and":
        def every(row: Any) -> bool:
            for pred in preds:
                if not pred(row):
                    return False
            return True

        return every, [[n] for n in needs if n and n[0] in PREFILTER]

    def some(row: Any) -> bool:
        for pred in preds:
            if pred(row):
                return True
        return False

    alternatives = [n for n in needs if n]
    ok = len(alternatives) == len(needs) and all(n[0] in PREFILTER for n in alternatives)
    return some, ([alternatives] if ok else [])


class Query:
    """A validated ConversationQuery, ready to run."""

    def __init__(self, body: Any, max_page_size: int) -> None:
        if not isinstance(body, dict):
            raise bad("The query body must be a JSON object")
        unknown = set(body) - BODY_KEYS
        if unknown:
            raise bad(f"Unrecognized field '{sorted(unknown)[0]}'")
        self.start, self.end = parse_interval(body.get("interval"))
        self.order = body.get("order", "asc")
        if self.order not in ("asc", "desc", "unordered"):
            raise bad(f"Invalid order '{self.order}'")
        self.order_by = body.get("orderBy", "conversationStart")
        if self.order_by not in ORDER_BY:
            raise bad(f"Invalid orderBy '{self.order_by}'")
        paging = body.get("paging") or {}
        if not isinstance(paging, dict):
            raise bad("paging must be an object")
        self.page_size, self.page_number = paging.get("pageSize", 25), paging.get("pageNumber", 1)
        if not isinstance(self.page_size, int) or not isinstance(self.page_number, int) or self.page_size < 1 \
                or self.page_number < 1:
            raise bad("paging.pageSize and paging.pageNumber must be positive integers")
        if self.page_size > max_page_size:
            raise bad(f"paging.pageSize cannot exceed {max_page_size}")
        self.conv_filters = [compile_filter(f, CONVERSATION_DIMENSIONS, "conversationFilters")[0]
                             for f in _list(body, "conversationFilters")]
        compiled = [compile_filter(f, SEGMENT_DIMENSIONS, "segmentFilters") for f in _list(body, "segmentFilters")]
        self.seg_filters = [fn for fn, _ in compiled]
        self.needs = [need for _, needs in compiled for need in needs]
        for name in ("evaluationFilters", "surveyFilters", "resolutionFilters"):
            if _list(body, name):
                raise bad(f"{name} are not supported by the sandbox")

    def run(self, org: Org, candidates: list[Conversation], asof: float, rng: random.Random,
            duplicate_rate: float) -> tuple[int, list[Conversation]]:
        """(total hits, this page's conversations, possibly with duplicates)."""
        day = math.floor(self.start / 86400) * 86400
        matched = [c for c in candidates if day <= c.start < self.end and c.start <= asof
                   and (c.end is None or c.end > asof or c.end >= self.start) and self._match(org, c, asof)]
        if self.order_by != "conversationStart":
            far = float("inf")
            key = (lambda c: c.end if c.end is not None and c.end <= asof else far) \
                if self.order_by in ("conversationEnd", "segmentEnd") else (lambda c: c.start)
            matched.sort(key=key)
        if self.order == "desc":
            matched.reverse()
        first = (self.page_number - 1) * self.page_size
        page = matched[first:first + self.page_size]
        if duplicate_rate > 0 and page:
            page = _with_duplicates(page, matched[first - 1] if first > 0 else None, rng, duplicate_rate)
        return len(matched), page

    def _match(self, org: Org, conv: Conversation, asof: float) -> bool:
        if self.conv_filters:
            facts = ConversationFacts(conv, asof)
            if not all(f(facts) for f in self.conv_filters):
                return False
        if not self.seg_filters:
            return True
        if self.needs and not _prefilter(conv, self.needs):
            return False
        rows = segment_rows(org, conv, asof)
        for flt in self.seg_filters:
            for row in rows:
                if flt(row):
                    break
            else:
                return False
        return True


def _list(body: dict[str, Any], name: str) -> list[Any]:
    value = body.get(name) or []
    if not isinstance(value, list):
        raise bad(f"{name} must be a list")
    return value


def _has(conv: Conversation, name: str, value: str) -> bool:
    if name == "queueId":
        return any(leg.queue_id == value for leg in conv.legs)
    if name == "userId":
        return any(leg.user_id == value for leg in conv.legs)
    if name == "mediaType":
        return conv.media == value
    return any(c is not None and c.lower() == value for leg in conv.legs for _, c, _ in leg.history)


def _prefilter(conv: Conversation, needs: list[list[tuple[str, str]]]) -> bool:
    # Conversation-level check first: no segment can match a queue, user or code the conversation lacks.
    return all(any(_has(conv, name, value) for name, value in alternatives) for alternatives in needs)


def _with_duplicates(page: list[Conversation], previous: Conversation | None, rng: random.Random,
                     rate: float) -> list[Conversation]:
    # Deep paging over shifting data repeats rows: the previous page's last one, or one of this page.
    out = list(page)
    if previous is not None and rng.random() < rate:
        out.insert(0, previous)
    for conv in page:
        if rng.random() < rate:
            out.append(conv)
    return out
