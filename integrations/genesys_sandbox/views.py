"""JSON views of routing entities and of conversations (Conversations API shapes, §3–§4)."""

from __future__ import annotations

from typing import Any

from .clock import iso
from .model import MEDIA_LIST, Conversation, Leg, Queue, WrapupCode
from .orggen import Org


def division_ref(org: Org, division_id: str) -> dict[str, Any]:
    """``{id, name, selfUri}`` of a division."""
    div = org.divisions[division_id]
    return {"id": div.id, "name": div.name, "selfUri": f"/api/v2/authorization/divisions/{div.id}"}


def code_json(org: Org, code: WrapupCode) -> dict[str, Any]:
    """A ``WrapupCode`` entity."""
    return {
        "id": code.id, "name": code.name, "division": division_ref(org, code.division_id),
        "description": code.description, "dateCreated": iso(code.created), "dateModified": iso(code.modified),
        "createdBy": code.author_id, "modifiedBy": code.author_id, "selfUri": f"/api/v2/routing/wrapupcodes/{code.id}",
    }


def code_view_json(org: Org, code: WrapupCode) -> dict[str, Any]:
    """The simplified code of the division views endpoint."""
    return {"id": code.id, "name": code.name, "division": division_ref(org, code.division_id),
            "selfUri": f"/api/v2/routing/wrapupcodes/{code.id}"}


def queue_code_json(code: WrapupCode) -> dict[str, Any]:
    """A queue's code list entry: only ``id``/``name`` are promised (§3), plus ``selfUri``."""
    return {"id": code.id, "name": code.name, "selfUri": f"/api/v2/routing/wrapupcodes/{code.id}"}


def queue_json(org: Org, queue: Queue) -> dict[str, Any]:
    """A ``Queue`` entity with ``acwSettings``."""
    acw: dict[str, Any] = {"wrapupPrompt": queue.acw_prompt}
    if queue.timeout_ms is not None:
        acw["timeoutMs"] = queue.timeout_ms
    members = len(queue.member_ids)
    media = {"alertingTimeoutSeconds": 8, "serviceLevel": {"percentage": 0.8, "durationMs": 20000}}
    return {
        "id": queue.id, "name": queue.name, "division": division_ref(org, queue.division_id),
        "description": queue.description, "dateCreated": iso(queue.created), "dateModified": iso(queue.created),
        "createdBy": queue.author_id, "modifiedBy": queue.author_id,
        "memberCount": members, "userMemberCount": members, "joinedMemberCount": members - members // 4,
        "mediaSettings": {"call": media, "chat": media, "email": media, "message": media},
        "acwSettings": acw, "skillEvaluationMethod": "ALL", "selfUri": f"/api/v2/routing/queues/{queue.id}",
    }


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    # Genesys omits unset fields rather than sending null.
    return {k: v for k, v in data.items() if v is not None}


def wrapup_json(wrapup: dict[str, Any] | None) -> dict[str, Any] | None:
    """A participant's ``wrapup`` with ISO times; None when no code is saved."""
    if wrapup is None:
        return None
    out = dict(wrapup)
    out["endTime"] = iso(out.get("endTime"))
    return _drop_none(out)


def _communication(comm_id: str, state: str, conv: Conversation, *, connected: float | None,
                   disconnected: float | None, disconnect_type: str | None) -> dict[str, Any]:
    return _drop_none({"id": comm_id, "state": state, "direction": conv.direction,
                       "connectedTime": iso(connected), "disconnectedTime": iso(disconnected),
                       "disconnectType": disconnect_type if disconnected is not None else None})


def conversation_json(org: Org, conv: Conversation) -> dict[str, Any]:
    """``GET /api/v2/conversations/{id}``: customer, ACD and agent participants, ACW fields."""
    media_key = MEDIA_LIST.get(conv.media, "calls")
    customer = _drop_none({
        "id": conv.customer_pid, "purpose": "customer", "name": conv.customer_name, "ani": conv.ani, "dnis": conv.dnis,
        "address": conv.ani, "startTime": iso(conv.start), "connectedTime": iso(conv.start),
        "endTime": iso(conv.customer_end), "wrapupRequired": False,
    })
    customer[media_key] = [_communication(
        conv.customer_comm_id, "disconnected" if conv.customer_end else "connected", conv,
        connected=conv.start, disconnected=conv.customer_end, disconnect_type="endpoint")]
    participants = [customer]
    for leg in conv.legs:
        participants.append(_acd_json(org, conv, leg, media_key))
        participants.append(leg_json(org, conv, leg, media_key))
    return {
        "id": conv.id, "startTime": iso(conv.start), **({"endTime": iso(conv.end)} if conv.end else {}),
        "address": conv.dnis, "participants": participants, "recordingState": "none",
        "divisions": [{"division": {"id": conv.division_id, "selfUri": f"/api/v2/authorization/divisions/{conv.division_id}"},
                       "entities": []}],
        **({"externalTag": conv.external_tag} if conv.external_tag else {}),
        "selfUri": f"/api/v2/conversations/{conv.id}",
    }


def _acd_json(org: Org, conv: Conversation, leg: Leg, media_key: str) -> dict[str, Any]:
    queue = org.queues[leg.queue_id]
    left = leg.connected
    acd = _drop_none({"id": leg.acd_pid, "purpose": "acd", "name": queue.name, "queueId": queue.id,
                      "queueName": queue.name, "startTime": iso(leg.queued), "endTime": iso(left),
                      "wrapupRequired": False})
    acd[media_key] = [_communication(leg.acd_comm_id, "disconnected" if left else "connected", conv,
                                     connected=leg.queued, disconnected=left, disconnect_type="transfer")]
    return acd


def leg_json(org: Org, conv: Conversation, leg: Leg, media_key: str | None = None) -> dict[str, Any]:
    """An agent participant; "in ACW" = startAcwTime set, no endAcwTime, no wrapup, disconnected."""
    queue = org.queues[leg.queue_id]
    agent = org.agents.get(leg.user_id)
    done = leg.state == "done"
    data: dict[str, Any] = _drop_none({
        "id": leg.pid, "purpose": "agent", "name": agent.name if agent else None, "userId": leg.user_id,
        "queueId": queue.id, "queueName": queue.name, "teamId": agent.team_id if agent else None,
        "startTime": iso(leg.alerted), "connectedTime": iso(leg.connected),
        "endTime": iso((leg.acw_end or leg.ended) if done else None),
        "wrapupRequired": leg.wrapup_required, "wrapupPrompt": leg.prompt, "wrapupTimeoutMs": leg.timeout_ms,
        "wrapupSkipped": True if leg.skipped else None,
        "wrapup": wrapup_json(leg.wrapup), "startAcwTime": iso(leg.acw_start), "endAcwTime": iso(leg.acw_end),
    })
    comm = _communication(leg.comm_id, "connected" if leg.ended is None else "disconnected", conv,
                          connected=leg.connected, disconnected=leg.ended, disconnect_type=leg.disconnect_type)
    if leg.acw_start is not None:
        acw_state = "complete" if leg.acw_end is not None and not leg.skipped else (
            "skipped" if leg.skipped else "pending")
        comm["afterCallWork"] = _drop_none({"startTime": iso(leg.acw_start), "endTime": iso(leg.acw_end),
                                           "state": acw_state})
    elif leg.ended is not None:
        comm["afterCallWork"] = {"state": "notApplicable"}
    if leg.prompt == "agentRequested":
        comm["afterCallWorkRequired"] = leg.acw_start is not None
    if leg.wrapup is not None:
        comm["wrapup"] = wrapup_json(leg.wrapup)
    data[media_key or MEDIA_LIST.get(conv.media, "calls")] = [comm]
    return data
