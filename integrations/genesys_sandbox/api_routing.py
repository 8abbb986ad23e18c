"""Routing endpoints: wrap-up codes (and their division views) and queues, with real paging."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from .views import code_json, code_view_json, queue_code_json, queue_json
from .web import ApiError, Request, Response, Router

if TYPE_CHECKING:
    from .app import SandboxApp
    from .model import Queue, WrapupCode

PAGING_KEYS = ("pageSize", "pageNumber")


def paging(req: Request, max_size: int) -> tuple[int, int]:
    """(pageSize, pageNumber) from the query; default 25 and 1; 400 above ``max_size`` or below 1."""
    try:
        size = int(req.arg("pageSize", "25") or "25")
        number = int(req.arg("pageNumber", "1") or "1")
    except ValueError:
        raise ApiError(400, "pageSize and pageNumber must be integers") from None
    if size < 1 or number < 1:
        raise ApiError(400, "pageSize and pageNumber must be at least 1")
    if size > max_size:
        raise ApiError(400, f"pageSize cannot exceed {max_size}")
    return size, number


def envelope(req: Request, items: Sequence[Any], size: int, number: int,
             render: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """The entity listing: entities, pageSize, pageNumber, total, pageCount and relative URIs.

    URIs that would point at a page that does not exist are left out (UNVERIFIED choice).
    """
    total = len(items)
    count = math.ceil(total / size)
    extra = [(k, v) for k, values in req.query.items() if k not in PAGING_KEYS for v in values]

    def uri(page: int) -> str:
        return f"{req.path}?{urlencode([('pageSize', size), ('pageNumber', page)] + extra)}"

    body: dict[str, Any] = {"entities": [render(i) for i in items[(number - 1) * size:number * size]],
                            "pageSize": size, "pageNumber": number, "total": total, "pageCount": count,
                            "firstUri": uri(1), "selfUri": uri(number), "lastUri": uri(max(count, 1))}
    if 1 < number <= count + 1:
        body["previousUri"] = uri(number - 1)
    if number < count:
        body["nextUri"] = uri(number + 1)
    return body


def name_matcher(pattern: str | None) -> Callable[[str], bool]:
    """Case-insensitive name filter; ``*`` is a wildcard, no ``*`` means the exact name."""
    if not pattern:
        return lambda name: True
    regex = re.compile(re.escape(pattern.lower()).replace(r"\*", ".*"), re.DOTALL)
    return lambda name: regex.fullmatch(name.lower()) is not None


def _sorted(items: list[Any], req: Request, *, allow_sort_by: bool) -> list[Any]:
    sort_by = (req.arg("sortBy") or "name") if allow_sort_by else "name"
    order = (req.arg("sortOrder") or "ascending").lower()
    if sort_by not in ("name", "id") or order not in ("ascending", "descending", "asc", "desc"):
        raise ApiError(400, "sortBy must be name|id and sortOrder ascending|descending")
    key = (lambda e: e.id) if sort_by == "id" else (lambda e: (e.name.lower(), e.id))
    return sorted(items, key=key, reverse=order.startswith("desc"))


def _filter(items: list[Any], req: Request) -> list[Any]:
    match = name_matcher(req.arg("name"))
    ids, divisions = set(req.args("id")), set(req.args("divisionId"))
    return [e for e in items if match(e.name) and (not ids or e.id in ids)
            and (not divisions or e.division_id in divisions)]


def live_code(app: SandboxApp, code_id: str) -> WrapupCode:
    """The active code with this id; 404 for an unknown or deleted one."""
    code = app.store.org.codes.get(code_id)
    if code is None or code.deleted:
        raise ApiError(404)
    return code


def live_queue(app: SandboxApp, queue_id: str) -> Queue:
    """The queue with this id; 404 for an unknown or deleted one."""
    queue = app.store.org.queues.get(queue_id)
    if queue is None or queue.deleted:
        raise ApiError(404)
    return queue


def list_codes(app: SandboxApp, req: Request) -> Response:
    """``GET /api/v2/routing/wrapupcodes``: active codes; sortBy only honoured with ``name``."""
    size, number = paging(req, app.config.max_page_size)
    org = app.store.org
    with app.store.lock:
        codes = _filter([c for c in org.codes.values() if not c.deleted], req)
    codes = _sorted(codes, req, allow_sort_by=req.arg("name") is not None)
    return Response(200, envelope(req, codes, size, number, lambda c: code_json(org, c)))


def get_code(app: SandboxApp, req: Request) -> Response:
    """``GET /api/v2/routing/wrapupcodes/{codeId}``; deleted codes are 404 here."""
    return Response(200, code_json(app.store.org, live_code(app, req.params["codeId"])))


def list_code_views(app: SandboxApp, req: Request) -> Response:
    """``GET …/wrapupcodes/divisionviews``: simplified codes; ``includeState`` reaches deleted ones."""
    size, number = paging(req, app.config.max_page_size)
    if req.arg("name") and req.args("id"):
        raise ApiError(400, "Specifying both name and ID parameters is not supported.")
    state = req.arg("includeState", "Active")
    wanted = {"Active": (False,), "Deleted": (True,), "ActiveAndDeleted": (False, True)}.get(state or "")
    if wanted is None:
        raise ApiError(400, "includeState must be Active, Deleted or ActiveAndDeleted")
    org = app.store.org
    codes = _sorted(_filter([c for c in org.codes.values() if c.deleted in wanted], req), req, allow_sort_by=False)
    return Response(200, envelope(req, codes, size, number, lambda c: code_view_json(org, c)))


def get_code_view(app: SandboxApp, req: Request) -> Response:
    """``GET …/wrapupcodes/divisionviews/{codeId}``: answers for deleted codes too."""
    code = app.store.org.codes.get(req.params["codeId"])
    if code is None:
        raise ApiError(404)
    return Response(200, code_view_json(app.store.org, code))


def list_queues(app: SandboxApp, req: Request) -> Response:
    """``GET /api/v2/routing/queues``: name with leading/trailing ``*``, ``id[]``, ``divisionId[]``."""
    size, number = paging(req, app.config.max_page_size)
    org = app.store.org
    queues = _sorted(_filter([q for q in org.queues.values() if not q.deleted], req), req, allow_sort_by=False)
    return Response(200, envelope(req, queues, size, number, lambda q: queue_json(org, q)))


def get_queue(app: SandboxApp, req: Request) -> Response:
    """``GET /api/v2/routing/queues/{queueId}``."""
    return Response(200, queue_json(app.store.org, live_queue(app, req.params["queueId"])))


def list_queue_codes(app: SandboxApp, req: Request) -> Response:
    """``GET /api/v2/routing/queues/{queueId}/wrapupcodes``: the queue's "code group"."""
    size, number = paging(req, app.config.max_page_size)
    org = app.store.org
    queue = live_queue(app, req.params["queueId"])
    match = name_matcher(req.arg("name"))
    codes = [org.codes[c] for c in queue.code_ids if match(org.codes[c].name)]
    return Response(200, envelope(req, codes, size, number, queue_code_json))


def register(router: Router) -> None:
    """Add the routing endpoints."""
    router.add("GET", "/api/v2/routing/wrapupcodes", list_codes)
    router.add("GET", "/api/v2/routing/wrapupcodes/divisionviews", list_code_views)
    router.add("GET", "/api/v2/routing/wrapupcodes/divisionviews/{codeId}", get_code_view)
    router.add("GET", "/api/v2/routing/wrapupcodes/{codeId}", get_code)
    router.add("GET", "/api/v2/routing/queues", list_queues)
    router.add("GET", "/api/v2/routing/queues/{queueId}", get_queue)
    router.add("GET", "/api/v2/routing/queues/{queueId}/wrapupcodes", list_queue_codes)
