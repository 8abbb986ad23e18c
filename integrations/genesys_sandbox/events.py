"""Payloads of the conversation detail events the sandbox emits (§7).

``user.end`` when an agent leg disconnects (and ACW starts), ``acw`` when ACW is over,
with the final code. Keys follow the SDK's ``attribute_map``; enums are UPPER case there.
"""

from __future__ import annotations

from typing import Any

from .model import Conversation, Leg

USER_END = "user.end"
ACW = "acw"


def topic_name(conversation_id: str, suffix: str) -> str:
    """Full topic, e.g. ``v2.detail.events.conversation.{id}.acw``."""
    return f"v2.detail.events.conversation.{conversation_id}.{suffix}"


def _common(conv: Conversation, leg: Leg, event_time: float) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "eventTime": int(event_time * 1000),
        "conversationId": conv.id,
        "participantId": leg.pid,
        "sessionId": leg.comm_id,
        "mediaType": conv.media.upper(),
        "provider": _provider(conv.media),
        "direction": conv.direction.upper(),
        "ani": conv.ani,
        "dnis": conv.dnis,
        "userId": leg.user_id,
        "queueId": leg.queue_id,
        "conversationExternalContactIds": [],
        "conversationExternalOrganizationIds": [],
    }
    if conv.media == "email":
        payload.update(addressFrom=conv.ani.removeprefix("mailto:"), addressTo=conv.dnis.removeprefix("mailto:"),
                       subject=conv.subject)
    if conv.message_type:
        payload["messageType"] = conv.message_type.upper()
    return payload


def user_end_payload(conv: Conversation, leg: Leg, division_id: str) -> dict[str, Any]:
    """``UserEndDetailEventTopicUserEndEvent`` for a leg that just disconnected."""
    payload = _common(conv, leg, leg.ended or 0.0)
    talk = (leg.ended or 0.0) - (leg.connected or leg.alerted)
    payload.update(
        disconnectType=leg.disconnect_type.upper(),
        divisionId=division_id,
        interactingDurationMs=int(max(0.0, talk) * 1000),
        heldDurationMs=leg.held_ms,
        alertingDurationMs=int(((leg.connected or leg.alerted) - leg.alerted) * 1000),
    )
    return payload


def acw_payload(conv: Conversation, leg: Leg) -> dict[str, Any]:
    """``AcwDetailEventTopicAfterCallWorkEvent`` for a leg whose ACW just ended."""
    payload = _common(conv, leg, leg.acw_end or 0.0)
    wrapup = leg.wrapup or {}
    if wrapup.get("code"):
        payload["wrapupCode"] = wrapup["code"]
    if wrapup.get("notes"):
        payload["wrapupNotes"] = wrapup["notes"]
    payload["wrapupDurationMs"] = int(((leg.acw_end or 0.0) - (leg.acw_start or 0.0)) * 1000)
    return payload


def _provider(media: str) -> str:
    return {"voice": "Edge", "email": "PureCloud Email", "message": "PureCloud Messaging"}.get(media, "PureCloud")
