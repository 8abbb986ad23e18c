"""Token and organisation self-checks, ``users/me``, and the analytics endpoints."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from .analytics import Query
from .analytics_view import details_json
from .auth import DEMO_CLIENT_UUID, SCOPES
from .clock import iso
from .web import ApiError, Request, Response, Router

if TYPE_CHECKING:
    from .app import SandboxApp

CLIENT_CREDENTIALS_REFUSAL = "This request is not valid when using the Client Credentials OAuth grant."


def tokens_me(app: SandboxApp, req: Request) -> Response:
    """``GET /api/v2/tokens/me``: organisation, scopes, OAuth client, idle date."""
    org = app.store.org
    ref = {"id": org.id, "name": org.name, "selfUri": f"/api/v2/organizations/{org.id}"}
    body = {"organization": ref, "homeOrganization": ref, "authorizedScope": SCOPES,
            "OAuthClient": {"id": DEMO_CLIENT_UUID, "name": "Wrap-up Portal", "organization": ref},
            "dateTokenIdles": iso(req.token.expires)}
    if req.token.user_id:
        body["authorizedScope"] = SCOPES + ["users:readonly"]
    return Response(200, body)


def organizations_me(app: SandboxApp, req: Request) -> Response:
    """``GET /api/v2/organizations/me``."""
    org = app.store.org
    return Response(200, {"id": org.id, "name": org.name, "defaultLanguage": "en-us", "defaultCountryCode": "US",
                          "thirdPartyOrgName": "acme-sandbox", "domain": "acme-sandbox", "version": 1,
                          "state": "active", "productPlatform": "PureCloud", "voicemailEnabled": True,
                          "selfUri": f"/api/v2/organizations/{org.id}"})


def users_me(app: SandboxApp, req: Request) -> Response:
    """``GET /api/v2/users/me``: refused for client credentials (code ``not.a.user`` is a guess)."""
    if req.token.user_id is None:
        raise ApiError(400, CLIENT_CREDENTIALS_REFUSAL, code="not.a.user")
    org = app.store.org
    agent = org.agents[req.token.user_id]
    div = org.divisions[agent.division_id]
    return Response(200, {"id": agent.id, "name": agent.name, "email": agent.email, "username": agent.email,
                          "state": "active", "division": {"id": div.id, "name": div.name,
                                                          "selfUri": f"/api/v2/authorization/divisions/{div.id}"},
                          "selfUri": f"/api/v2/users/{agent.id}"})


def details_query(app: SandboxApp, req: Request) -> Response:
    """``POST /api/v2/analytics/conversations/details/query``."""
    query = Query(req.json(), app.config.max_page_size)
    asof = app.clock.now() - app.config.analytics_delay_seconds
    day = query.start - query.start % 86400
    with app.store.lock:
        candidates = list(app.store.started_between(day, query.end))
    # Filtering runs without the lock so that other requests interleave with a long query; a
    # conversation changing meanwhile is seen before or after the change (analytics is
    # approximate anyway, §5). The page is rendered under the lock, consistently.
    with app.rng_lock:
        rng = random.Random(app.rng.random())  # duplicates stay reproducible from the seed
    total, page = query.run(app.store.org, candidates, asof, rng, app.config.analytics_duplicate_rate)
    with app.store.lock:
        conversations = [d for d in (details_json(app.store.org, c, asof) for c in page) if d is not None]
    body: dict = {"totalHits": total}
    if conversations:  # Genesys leaves the key out of an empty page (choice, see README)
        body["conversations"] = conversations
    return Response(200, body)


def conversation_details(app: SandboxApp, req: Request) -> Response:
    """``GET /api/v2/analytics/conversations/{conversationId}/details``."""
    asof = app.clock.now() - app.config.analytics_delay_seconds
    with app.store.lock:
        conv = app.store.get(req.params["conversationId"])
        body = details_json(app.store.org, conv, asof) if conv else None
    if body is None:
        raise ApiError(404)
    return Response(200, body)


MAX_DETAILS_IDS = 100


def conversations_details(app: SandboxApp, req: Request) -> Response:
    """``GET /api/v2/analytics/conversations/details?id=a,b``: the ones found, others left out."""
    ids = req.args("id")
    if not ids:
        raise ApiError(400, "id is required")
    if len(ids) > MAX_DETAILS_IDS:  # the real limit is UNVERIFIED: the portal asks for at most 100
        raise ApiError(400, f"At most {MAX_DETAILS_IDS} conversation ids may be requested at once")
    asof = app.clock.now() - app.config.analytics_delay_seconds
    with app.store.lock:
        found = [app.store.get(i) for i in ids]
        views = [details_json(app.store.org, c, asof) for c in found if c is not None]
    return Response(200, {"conversations": [v for v in views if v is not None]})


def register(router: Router) -> None:
    """Add the platform and analytics endpoints."""
    router.add("GET", "/api/v2/tokens/me", tokens_me)
    router.add("GET", "/api/v2/organizations/me", organizations_me)
    router.add("GET", "/api/v2/users/me", users_me)
    router.add("POST", "/api/v2/analytics/conversations/details/query", details_query)
    router.add("GET", "/api/v2/analytics/conversations/details", conversations_details)
    router.add("GET", "/api/v2/analytics/conversations/{conversationId}/details", conversation_details)
