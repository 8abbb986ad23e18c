"""Catalogue management: create, change and delete wrap-up codes, assign them to queues, delete queues.

docs/genesys-api.md §3 ("Managing the catalogue") lists these endpoints; the portal never calls them,
but admins change the catalogue in Genesys while the portal runs, and the catalog sync's
tests need to do the same over real HTTP. Choices where the reference is silent (status
codes of the answers, duplicate names) are in this package's README.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from .api_routing import live_code, live_queue
from .model import WrapupCode
from .views import code_json
from .web import ApiError, Request, Response, Router

if TYPE_CHECKING:
    from .app import SandboxApp

MAX_CODES_PER_ASSIGN = 100  # "Add up to 100"


def _code_fields(app: SandboxApp, body: Any) -> tuple[str, str, str]:
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip():
        raise ApiError(400, "A wrap-up code needs a name.")
    division = body.get("division") or {}
    division_id = division.get("id") if isinstance(division, dict) else None
    org = app.store.org
    if division_id is None:
        division_id = next(iter(org.divisions))  # the home division
    elif division_id not in org.divisions:
        raise ApiError(400, f"Unknown division {division_id}.")
    return body["name"].strip(), division_id, str(body.get("description") or "")


def _name_taken(app: SandboxApp, name: str, except_id: str = "") -> bool:
    return any(c.name.lower() == name.lower() and not c.deleted and c.id != except_id for c in app.store.org.codes.values())


def create_code(app: SandboxApp, req: Request) -> Response:
    """``POST /api/v2/routing/wrapupcodes``: a new code (names are unique among active codes)."""
    name, division_id, description = _code_fields(app, req.json())
    now = app.clock.now()
    with app.store.lock:
        if _name_taken(app, name):
            raise ApiError(400, f"A wrap-up code named {name!r} already exists.")
        code = WrapupCode(str(uuid.uuid4()), name, division_id, description, now, now, "sandbox-admin")
        app.store.org.codes[code.id] = code
    return Response(200, code_json(app.store.org, code))


def update_code(app: SandboxApp, req: Request) -> Response:
    """``PUT /api/v2/routing/wrapupcodes/{codeId}``: rename, move division, change description."""
    name, division_id, description = _code_fields(app, req.json())
    with app.store.lock:
        code = live_code(app, req.params["codeId"])
        if _name_taken(app, name, except_id=code.id):
            raise ApiError(400, f"A wrap-up code named {name!r} already exists.")
        code.name, code.division_id, code.description, code.modified = name, division_id, description, app.clock.now()
    return Response(200, code_json(app.store.org, code))


def delete_code(app: SandboxApp, req: Request) -> Response:
    """``DELETE /api/v2/routing/wrapupcodes/{codeId}``: deleted codes stay visible in division views and history."""
    with app.store.lock:
        code = live_code(app, req.params["codeId"])
        code.deleted = True
        for queue in app.store.org.queues.values():
            if code.id in queue.code_ids:
                queue.code_ids.remove(code.id)
    return Response(204, None)


def add_queue_codes(app: SandboxApp, req: Request) -> Response:
    """``POST /api/v2/routing/queues/{queueId}/wrapupcodes`` with ``[{"id": …}]``, up to 100."""
    body = req.json()
    if not isinstance(body, list) or not all(isinstance(i, dict) and isinstance(i.get("id"), str) for i in body):
        raise ApiError(400, 'Expected a list of {"id": "<code id>"}.')
    if len(body) > MAX_CODES_PER_ASSIGN:
        raise ApiError(400, f"At most {MAX_CODES_PER_ASSIGN} codes per request.")
    with app.store.lock:
        org = app.store.org
        queue = live_queue(app, req.params["queueId"])
        ids = [item["id"] for item in body]
        unknown = [i for i in ids if i not in org.codes or org.codes[i].deleted]
        if unknown:
            raise ApiError(400, f"Unknown wrap-up code(s): {', '.join(unknown)}.")
        for code_id in ids:
            if code_id not in queue.code_ids:
                queue.code_ids.append(code_id)
            if code_id not in queue.historic_code_ids:
                queue.historic_code_ids.append(code_id)
    return Response(200, [{"id": i} for i in ids])


def remove_queue_code(app: SandboxApp, req: Request) -> Response:
    """``DELETE /api/v2/routing/queues/{queueId}/wrapupcodes/{codeId}``."""
    with app.store.lock:
        queue = live_queue(app, req.params["queueId"])
        if req.params["codeId"] not in queue.code_ids:
            raise ApiError(404)
        queue.code_ids.remove(req.params["codeId"])
    return Response(204, None)


def delete_queue(app: SandboxApp, req: Request) -> Response:
    """``DELETE /api/v2/routing/queues/{queueId}``: the queue is gone; its history stays."""
    with app.store.lock:
        live_queue(app, req.params["queueId"]).deleted = True
    return Response(204, None)


def register(router: Router) -> None:
    """Add the catalogue-management endpoints."""
    router.add("POST", "/api/v2/routing/wrapupcodes", create_code)
    router.add("PUT", "/api/v2/routing/wrapupcodes/{codeId}", update_code)
    router.add("DELETE", "/api/v2/routing/wrapupcodes/{codeId}", delete_code)
    router.add("POST", "/api/v2/routing/queues/{queueId}/wrapupcodes", add_queue_codes)
    router.add("DELETE", "/api/v2/routing/queues/{queueId}/wrapupcodes/{codeId}", remove_queue_code)
    router.add("DELETE", "/api/v2/routing/queues/{queueId}", delete_queue)
