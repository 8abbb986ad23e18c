"""Conversations API: read a conversation and a participant's wrap-up, write wrap-up codes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .model import MEDIA_PATHS
from .views import conversation_json, queue_code_json, wrapup_json
from .web import ApiError, Request, Response, Router
from .writes import find_leg, patch_body, wrapup_body, write

if TYPE_CHECKING:
    from .app import SandboxApp

MEDIA = "{media}"


def _check_media(req: Request, conv_media: str) -> None:
    # The per-media twins answer only for their own media type.
    media = req.params.get("media")
    if media is not None and MEDIA_PATHS.get(media) != conv_media:
        raise ApiError(404)


def get_conversation(app: SandboxApp, req: Request) -> Response:
    """``GET /api/v2/conversations/{conversationId}``."""
    with app.store.lock:
        conv = app.store.get(req.params["conversationId"])
        if conv is None:
            raise ApiError(404)
        _check_media(req, conv.media)
        return Response(200, conversation_json(app.store.org, conv))


def get_wrapup(app: SandboxApp, req: Request) -> Response:
    """``GET …/participants/{pid}/wrapup[?provisional=true]``: ``{}`` while no code is saved (choice)."""
    with app.store.lock:
        conv, leg = find_leg(app, req.params["conversationId"], req.params["participantId"])
        _check_media(req, conv.media)
        provisional = (req.arg("provisional") or "false").lower() == "true"
        if leg is None:
            return Response(200, {})
        chosen = leg.provisional if provisional and leg.provisional else leg.wrapup
        return Response(200, wrapup_json(chosen) or {})


def get_wrapup_codes(app: SandboxApp, req: Request) -> Response:
    """``GET …/participants/{pid}/wrapupcodes``: a plain list, the codes of the leg's queue."""
    with app.store.lock:
        conv, leg = find_leg(app, req.params["conversationId"], req.params["participantId"])
        _check_media(req, conv.media)
        if leg is None:
            return Response(200, [])
        org = app.store.org
        return Response(200, [queue_code_json(org.codes[c]) for c in org.queues[leg.queue_id].code_ids])


def patch_participant(app: SandboxApp, req: Request) -> Response:
    """``PATCH /api/v2/conversations/{cid}/participants/{pid}`` with only ``{"wrapup": {...}}``: 202."""
    body = req.json()
    with app.store.lock:
        conv, leg = find_leg(app, req.params["conversationId"], req.params["participantId"])
        _check_media(req, conv.media)
        wrapup = patch_body(conv, body)
        write(app, req, conv, leg, wrapup)
    return Response(202)


def post_communication_wrapup(app: SandboxApp, req: Request) -> Response:
    """``POST /api/v2/conversations/{media}/{cid}/participants/{pid}/communications/{commId}/wrapup``."""
    body = req.json()
    with app.store.lock:
        conv, leg = find_leg(app, req.params["conversationId"], req.params["participantId"])
        _check_media(req, conv.media)
        if leg is not None and leg.comm_id != req.params["communicationId"]:
            raise ApiError(404)
        wrapup = wrapup_body(body, required=False)
        write(app, req, conv, leg, wrapup)
    return Response(202)


def register(router: Router) -> None:
    """Add the conversation endpoints and their per-media twins."""
    base = "/api/v2/conversations"
    for prefix in (base, f"{base}/{MEDIA}"):
        router.add("GET", f"{prefix}/{{conversationId}}", get_conversation)
        router.add("GET", f"{prefix}/{{conversationId}}/participants/{{participantId}}/wrapup", get_wrapup)
        router.add("GET", f"{prefix}/{{conversationId}}/participants/{{participantId}}/wrapupcodes", get_wrapup_codes)
        router.add("PATCH", f"{prefix}/{{conversationId}}/participants/{{participantId}}", patch_participant)
    router.add("POST", f"{base}/{MEDIA}/{{conversationId}}/participants/{{participantId}}/communications/"
                       "{communicationId}/wrapup", post_communication_wrapup)
