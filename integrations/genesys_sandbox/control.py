"""``/__sandbox/*``: the control endpoint tests use (not Genesys; no auth; JSON)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .clock import iso, parse_iso
from .config import KnobError
from .control_ops import advance, create_conversation
from .views import conversation_json
from .web import ApiError, Request, Response, Router

if TYPE_CHECKING:
    from .app import SandboxApp


def _body(req: Request) -> dict[str, Any]:
    body = req.json()
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(400, "expected a JSON object")
    return body


def _limit(req: Request) -> int | None:
    try:
        return int(req.arg("limit")) if req.arg("limit") else None
    except ValueError:
        raise ApiError(400, "limit must be an integer") from None


def get_config(app: SandboxApp, req: Request) -> Response:
    """Current knobs."""
    return Response(200, app.config.to_dict())


def set_config(app: SandboxApp, req: Request) -> Response:
    """Change some knobs (all or nothing); unknown knob or bad value → 400."""
    try:
        app.config.update(_body(req))
    except KnobError as err:
        raise ApiError(400, str(err)) from None
    return Response(200, app.config.to_dict())


def reset(app: SandboxApp, req: Request) -> Response:
    """Knobs back to their start values; log, counters, quotas, events cleared; ``{"state": true}`` also
    regenerates the organisation and history from the seed."""
    app.reset(state=bool(_body(req).get("state")))
    return Response(200, {"reset": True, "config": app.config.to_dict()})


def stats(app: SandboxApp, req: Request) -> Response:
    """Counters, plus the number of conversations and the simulated time."""
    data = app.telemetry.snapshot()
    data.update(conversations=app.store.count(), conversations_evicted=app.store.evicted,
                pending_timers=app.store.pending_timers(), now=iso(app.clock.now()))
    return Response(200, data)


def requests_log(app: SandboxApp, req: Request) -> Response:
    """The API request log (method, path, status, time, token id)."""
    return Response(200, app.telemetry.requests(_limit(req)))


def events(app: SandboxApp, req: Request) -> Response:
    """Events emitted (user.end / acw), with their webhook delivery status."""
    return Response(200, app.webhook.events(_limit(req)))


def org(app: SandboxApp, req: Request) -> Response:
    """Ids and settings of divisions, queues, codes and agents, so tests can pick real ones."""
    o = app.store.org
    return Response(200, {
        "organization": {"id": o.id, "name": o.name},
        "divisions": [{"id": d.id, "name": d.name} for d in o.divisions.values()],
        "queues": [{"id": q.id, "name": q.name, "divisionId": q.division_id, "wrapupPrompt": q.acw_prompt,
                    "timeoutMs": q.timeout_ms, "codeIds": list(q.code_ids), "memberIds": list(q.member_ids)}
                   for q in o.queues.values()],
        "codes": [{"id": c.id, "name": c.name, "divisionId": c.division_id, "deleted": c.deleted}
                  for c in o.codes.values()],
        "agents": [{"id": a.id, "name": a.name, "email": a.email, "queueIds": list(a.queue_ids)}
                   for a in o.agents.values()],
    })


def new_conversation(app: SandboxApp, req: Request) -> Response:
    """Create a conversation in a chosen state; answers its Conversation JSON."""
    spec = _body(req)
    with app.store.lock:
        conv = create_conversation(app, spec)
        return Response(201, conversation_json(app.store.org, conv))


def active_legs(app: SandboxApp, req: Request) -> Response:
    """Agent legs of conversations still going, optionally ``?state=connected|acw``."""
    wanted = req.arg("state")
    now = app.clock.now()
    out = []
    with app.store.lock:
        for conv in app.store.started_between(now - 6 * 3600, now + 1):
            if conv.end is not None:
                continue
            for leg in conv.legs:
                if leg.state != "done" and (wanted is None or leg.state == wanted):
                    out.append({"conversationId": conv.id, "participantId": leg.pid, "userId": leg.user_id,
                                "queueId": leg.queue_id, "state": leg.state, "mediaType": conv.media,
                                "communicationId": leg.comm_id})
    return Response(200, out)


def legs(app: SandboxApp, req: Request) -> Response:
    """Ground truth for search tests: every agent leg of the conversations started in ``[start, end)``.

    Read from the model itself, not through the analytics code, so a test can compare what a
    query found with what is really there: ``acwBegun``, ``wrapupCode`` (id, ``ININ-*`` or
    null) and ``ended`` (the conversation is over) as of the simulated now.
    """
    try:
        start, end = parse_iso(req.arg("start") or ""), parse_iso(req.arg("end") or "")
    except ValueError:
        raise ApiError(400, "start and end are required, in ISO-8601") from None
    now = app.clock.now()
    out = []
    with app.store.lock:
        for conv in app.store.started_between(start, min(end, now + 1)):
            if not start <= conv.start < end:
                continue
            for leg in conv.legs:
                if leg.queued > now:
                    continue
                saved = [code for t, code, _ in leg.history if t <= now]
                out.append({"conversationId": conv.id, "participantId": leg.pid, "queueId": leg.queue_id,
                            "userId": leg.user_id, "mediaType": conv.media,
                            "ended": conv.end is not None and conv.end <= now,
                            "acwBegun": leg.acw_start is not None and leg.acw_start <= now,
                            "wrapupCode": saved[-1] if saved else None})
    return Response(200, out)


def advance_conversation(app: SandboxApp, req: Request) -> Response:
    """Move a conversation along the state machine (see ``control_ops.advance``)."""
    spec = _body(req)
    with app.store.lock:
        conv = app.store.get(req.params["conversationId"])
        if conv is None:
            raise ApiError(404)
        advance(app, conv, spec)
        return Response(200, conversation_json(app.store.org, conv))


def clock(app: SandboxApp, req: Request) -> Response:
    """``GET``: the simulated time. ``POST {"advance_seconds": N}``: move time on and run what fell due."""
    if req.method == "POST":
        seconds = _body(req).get("advance_seconds", 0)
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or seconds < 0:
            raise ApiError(400, "advance_seconds must be a non-negative number")
        app.clock.advance(float(seconds))
        app.simulator.tick(app.clock.now())
    return Response(200, {"now": iso(app.clock.now()), "offset_seconds": app.clock.offset, "live": app.clock.live})


def agent_token(app: SandboxApp, req: Request) -> Response:
    """Shortcut for tests: an agent's own token without the browser sign-in."""
    user_id = _body(req).get("userId")
    if user_id not in app.store.org.agents:
        raise ApiError(400, "unknown userId")
    token = app.tokens.issue("wrapup-portal-demo", app.clock.wall(), app.config.token_lifetime_seconds, user_id)
    app.telemetry.bump("tokens_issued")
    return Response(200, {"access_token": token.value, "token_type": "bearer",
                          "expires_in": app.config.token_lifetime_seconds})


def register(router: Router) -> None:
    """Add the control endpoints."""
    for method, path, handler in (
        ("GET", "/__sandbox/config", get_config), ("POST", "/__sandbox/config", set_config),
        ("POST", "/__sandbox/reset", reset), ("GET", "/__sandbox/stats", stats),
        ("GET", "/__sandbox/requests", requests_log), ("GET", "/__sandbox/events", events),
        ("GET", "/__sandbox/org", org), ("POST", "/__sandbox/conversations", new_conversation),
        ("GET", "/__sandbox/conversations", active_legs), ("GET", "/__sandbox/legs", legs),
        ("POST", "/__sandbox/conversations/{conversationId}/advance", advance_conversation),
        ("GET", "/__sandbox/clock", clock), ("POST", "/__sandbox/clock", clock),
        ("POST", "/__sandbox/tokens", agent_token),
    ):
        router.add(method, path, handler, kind="control")
