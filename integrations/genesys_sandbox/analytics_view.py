"""Analytics conversation details (§5): participants → sessions → segments, as of a moment.

Rendering "as of" a time lets the sandbox model ingestion delay: anything that happened
after ``asof`` (a segment end, a saved code, the conversation end) is not visible yet.
"""

from __future__ import annotations

from typing import Any

from .clock import iso
from .model import Conversation, Leg
from .orggen import Org


def _seen(ts: float | None, asof: float) -> float | None:
    return ts if ts is not None and ts <= asof else None


def code_as_of(leg: Leg, asof: float) -> tuple[str | None, str | None]:
    """(code, notes) last saved on the leg at or before ``asof``."""
    code, notes = None, None
    for t, c, n in leg.history:
        if t <= asof:
            code, notes = c, n
    return code, notes


def _session(conv: Conversation, session_id: str, segments: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    session: dict[str, Any] = {"sessionId": session_id, "mediaType": conv.media, "direction": conv.direction,
                               "ani": conv.ani, "dnis": conv.dnis}
    if conv.media == "email":
        session.update(addressFrom=conv.ani.removeprefix("mailto:"), addressTo=conv.dnis.removeprefix("mailto:"))
    if conv.message_type:
        session["messageType"] = conv.message_type
    session.update({k: v for k, v in extra.items() if v is not None})
    session["segments"] = segments
    return session


def _segment(kind: str, start: float, end: float | None, asof: float, **extra: Any) -> dict[str, Any]:
    seg: dict[str, Any] = {"segmentType": kind, "segmentStart": iso(start)}
    seen_end = _seen(end, asof)
    if seen_end is not None:
        seg["segmentEnd"] = iso(seen_end)
    seg.update({k: v for k, v in extra.items() if v is not None})
    return seg


def details_json(org: Org, conv: Conversation, asof: float) -> dict[str, Any] | None:
    """The ``AnalyticsConversationWithoutAttributes`` view; None if it started after ``asof``."""
    if conv.start > asof:
        return None
    end = _seen(conv.end, asof)
    cust_end = _seen(conv.customer_end, asof)
    customer_segments = [_segment("interact", conv.start, conv.customer_end, asof,
                                  disconnectType="endpoint" if cust_end else None)]
    participants: list[dict[str, Any]] = [{
        "participantId": conv.customer_pid, "participantName": conv.customer_name, "purpose": "customer",
        "sessions": [_session(conv, conv.customer_comm_id, customer_segments)],
    }]
    for leg in conv.legs:
        participants.extend(_leg_participants(org, conv, leg, asof))
    out: dict[str, Any] = {"conversationId": conv.id, "conversationStart": iso(conv.start)}
    if end is not None:
        out["conversationEnd"] = iso(end)
    out.update(originatingDirection=conv.direction, divisionIds=[conv.division_id])
    if conv.external_tag:
        out["externalTag"] = conv.external_tag
    out["participants"] = participants
    return out


def _leg_participants(org: Org, conv: Conversation, leg: Leg, asof: float) -> list[dict[str, Any]]:
    if leg.queued > asof:
        return []
    queue = org.queues.get(leg.queue_id)
    acd = {"participantId": leg.acd_pid, "participantName": queue.name if queue else None, "purpose": "acd",
           "sessions": [_session(conv, leg.acd_comm_id, [_segment(
               "interact", leg.queued, leg.connected, asof, queueId=leg.queue_id,
               disconnectType="transfer" if _seen(leg.connected, asof) else None)])]}
    out = [acd]
    if leg.alerted > asof:
        return out
    segments = [_segment("alert", leg.alerted, leg.connected, asof, queueId=leg.queue_id)]
    if leg.connected is not None and leg.connected <= asof:
        segments.append(_segment("interact", leg.connected, leg.ended, asof, queueId=leg.queue_id,
                                 disconnectType=leg.disconnect_type if _seen(leg.ended, asof) else None))
    skipped = None
    if leg.acw_start is not None and leg.acw_start <= asof:
        code, notes = code_as_of(leg, asof)
        segments.append(_segment("wrapup", leg.acw_start, leg.acw_end, asof, queueId=leg.queue_id,
                                 wrapUpCode=code, wrapUpNote=notes))
        skipped = True if leg.skipped and _seen(leg.acw_end, asof) else None
    agent = org.agents.get(leg.user_id)
    participant: dict[str, Any] = {"participantId": leg.pid, "participantName": agent.name if agent else None,
                                   "purpose": "agent", "userId": leg.user_id}
    if agent:
        participant["teamId"] = agent.team_id
    participant["sessions"] = [_session(conv, leg.comm_id, segments, acwSkipped=skipped)]
    out.append(participant)
    return out


def segment_rows(details: dict[str, Any]) -> list[dict[str, Any]]:
    """Flatten a details view into one dict per segment, carrying participant and session fields,
    which is what a segment filter's predicates are evaluated against."""
    rows = []
    for participant in details["participants"]:
        base = {k: v for k, v in participant.items() if k != "sessions"}
        for session in participant["sessions"]:
            sbase = {**base, **{k: v for k, v in session.items() if k != "segments"}}
            for segment in session["segments"]:
                rows.append({**sbase, **segment})
    return rows
