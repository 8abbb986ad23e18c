"""Wrap-up write rules (docs/design.md; docs/genesys-api.md §4, "What is not documented").

Order of checks: existence (404) → body shape (403 for other MediaParticipantRequest
properties, 400 otherwise) → who may write (token kind, agent's own leg) → the code is one
the participant is offered (400) → the leg's state against ``write_window`` → ``silent_noop``.
State and permission refusals all use the ``refusal`` knob's status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .lifecycle import end_acw, save_code
from .model import Conversation, Leg
from .web import ApiError, Request, forbidden

if TYPE_CHECKING:
    from .app import SandboxApp

# MediaParticipantRequest properties: sending any but ``wrapup`` "tries to take an action" (§4).
PARTICIPANT_PROPERTIES = frozenset({"wrapup", "state", "recording", "muted", "confined", "held", "wrapupSkipped",
                                    "resumeTime"})
WRAPUP_PROPERTIES = frozenset({"code", "name", "notes", "tags", "durationSeconds", "endTime", "provisional",
                               "disableEndTimeUpdates"})


def find_leg(app: SandboxApp, cid: str, pid: str) -> tuple[Conversation, Leg | None]:
    """The conversation and agent leg; 404 for an unknown conversation or participant."""
    conv = app.store.get(cid)
    if conv is None:
        raise ApiError(404)
    leg = conv.leg(pid)
    if leg is None and pid not in conv.participant_ids():
        raise ApiError(404)
    return conv, leg


def patch_body(conv: Conversation, body: Any) -> dict[str, Any]:
    """The ``wrapup`` of a PATCH body, refusing anything else the way Genesys does."""
    if not isinstance(body, dict):
        raise ApiError(400)
    unknown = set(body) - PARTICIPANT_PROPERTIES
    if unknown:
        raise ApiError(400, f"Unrecognized field '{sorted(unknown)[0]}'")
    if set(body) - {"wrapup"}:
        raise forbidden("Conversation", conv.id)  # VERIFIED behaviour in every mode
    return wrapup_body(body.get("wrapup"), required=True)


def wrapup_body(wrapup: Any, *, required: bool) -> dict[str, Any]:
    """Validate a ``WrapupInput``."""
    if wrapup is None and not required:
        return {}
    if not isinstance(wrapup, dict):
        raise ApiError(400)
    unknown = set(wrapup) - WRAPUP_PROPERTIES
    if unknown:
        raise ApiError(400, f"Unrecognized field '{sorted(unknown)[0]}'")
    if "code" in wrapup and not isinstance(wrapup["code"], str):
        raise ApiError(400)
    if wrapup.get("tags") is not None and not isinstance(wrapup["tags"], list):
        raise ApiError(400)
    return wrapup


def write(app: SandboxApp, req: Request, conv: Conversation, leg: Leg | None, wrapup: dict[str, Any]) -> None:
    """Apply (or refuse) a wrap-up write; returns normally when the answer is 2xx."""
    cfg, store = app.config, app.store
    key = f"{conv.id}/{leg.pid if leg else req.params.get('participantId', '')}"
    try:
        if leg is None:  # customer or ACD participant: there is no wrap-up to write
            raise forbidden("Participant", req.params["participantId"], cfg.refusal)
        token = req.token
        if token.user_id is None and not cfg.client_credentials_may_write:
            raise forbidden("Conversation", conv.id, cfg.refusal)
        if token.user_id is not None and token.user_id != leg.user_id:
            raise forbidden("Participant", leg.pid, cfg.refusal)
        code_id = wrapup.get("code")
        if code_id is not None and code_id not in store.org.queues[leg.queue_id].code_ids:
            raise ApiError(400, f"Wrap-up code {code_id} is not valid for participant {leg.pid}.")
        if code_id is None and not (leg.prompt == "optional" and leg.state == "acw"):
            raise ApiError(400, "A wrap-up code is required.")
        _check_window(app, conv, leg)
    except ApiError:
        app.telemetry.count_write(key, accepted=False)
        raise
    app.telemetry.count_write(key, accepted=True)
    if cfg.silent_noop:
        return  # 2xx and nothing changes: the read-back must notice
    now = app.clock.now()
    if wrapup.get("provisional"):
        leg.provisional = {"code": code_id, "name": store.org.codes[code_id].name if code_id else None,
                           "notes": wrapup.get("notes"), "tags": wrapup.get("tags") or [], "provisional": True,
                           "endTime": now}
        return
    if code_id is None:  # optional prompt: submitting no code skips it
        end_acw(store, conv, leg, now, skipped=True)
        return
    save_code(store, conv, leg, now, code_id, wrapup.get("notes"), name=store.org.codes[code_id].name,
              tags=wrapup.get("tags"))


def _check_window(app: SandboxApp, conv: Conversation, leg: Leg) -> None:
    cfg = app.config
    state = leg.state
    if state == "acw":
        return
    if state in ("connected", "alerting"):
        raise forbidden("Conversation", conv.id, cfg.refusal)  # ACW has not started yet
    if cfg.write_window == "always":
        return
    if cfg.write_window == "until_conversation_end" and conv.end is None:
        return
    raise forbidden("Conversation", conv.id, cfg.refusal)
