"""The login host: client credentials, and an emulated agent sign-in (implicit grant or
authorization code with PKCE) so that an agent's own token can write that agent's legs.

Sandbox sign-in: ``GET /oauth/authorize`` shows a form listing agents; submitting it (or
``POST /oauth/authorize`` with ``username`` = an agent's email or user id) redirects to
``redirect_uri`` with the token (implicit) or a code (authorization code).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode

from .auth import DEMO_CLIENT_ID, AuthCode, basic_credentials, pkce_ok
from .web import Request, Response, Router

if TYPE_CHECKING:
    from .app import SandboxApp

CODE_LIFETIME = 300


def oauth_error(status: int, error: str, description: str) -> Response:
    """OAuth-style error body ``{"error", "description"}`` (not an ErrorBody)."""
    return Response(status, {"error": error, "description": description, "error_description": description})


def _form(req: Request) -> dict[str, str]:
    fields = parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)
    out = {k: v[0] for k, v in fields.items()}
    for key, values in req.query.items():
        out.setdefault(key, values[0])
    return out


def token(app: SandboxApp, req: Request) -> Response:
    """``POST /oauth/token``."""
    form = _form(req)
    grant = form.get("grant_type")
    now = app.clock.wall()
    lifetime = app.config.token_lifetime_seconds
    client_id, secret = basic_credentials(req.headers.get("authorization"))
    if grant == "client_credentials":
        if not app.tokens.check_client(client_id, secret):
            return oauth_error(401, "invalid_client", "Invalid client credentials")
        issued = app.tokens.issue(client_id or "", now, lifetime)
        app.telemetry.bump("tokens_issued")
        return Response(200, {"access_token": issued.value, "token_type": "bearer", "expires_in": lifetime})
    if grant in ("authorization_code", "refresh_token"):
        client_id = client_id or form.get("client_id")
        if client_id != DEMO_CLIENT_ID or (secret is not None and not app.tokens.check_client(client_id, secret)):
            return oauth_error(401, "invalid_client", "Invalid client credentials")
        if grant == "authorization_code":
            code = app.tokens.take_code(form.get("code", ""))
            if (code is None or code.expires < now or code.client_id != client_id
                    or code.redirect_uri != form.get("redirect_uri", code.redirect_uri)):
                return oauth_error(400, "invalid_grant", "Invalid or expired authorization code")
            if secret is None and not pkce_ok(form.get("code_verifier"), code.challenge, code.method):
                return oauth_error(400, "invalid_grant", "PKCE verification failed")
            if secret is None and code.challenge is None:
                return oauth_error(400, "invalid_request", "A public client must use PKCE")
            user_id = code.user_id
        else:
            found = app.tokens.use_refresh(form.get("refresh_token", ""))
            if found is None or found[0] != client_id:
                return oauth_error(400, "invalid_grant", "Invalid refresh token")
            user_id = found[1]
        issued = app.tokens.issue(client_id, now, lifetime, user_id=user_id)
        app.telemetry.bump("tokens_issued")
        return Response(200, {"access_token": issued.value, "token_type": "bearer", "expires_in": lifetime,
                              "refresh_token": app.tokens.new_refresh(client_id, user_id)})
    return oauth_error(400, "unsupported_grant_type", f"Unsupported grant type: {grant}")


def authorize_form(app: SandboxApp, req: Request) -> Response:
    """``GET /oauth/authorize``: the sandbox's sign-in page (pick an agent)."""
    problem = _check_authorize(req.query)
    if problem:
        return problem
    hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v[0])}">'
                     for k, v in req.query.items())
    options = "".join(f'<option value="{html.escape(a.email)}">{html.escape(a.name)}</option>'
                      for a in sorted(app.store.org.agents.values(), key=lambda a: a.name))
    page = (f"<!doctype html><title>Sandbox sign-in</title><h1>Genesys sandbox sign-in</h1>"
            f'<form method="post" action="/oauth/authorize">{hidden}<label>Agent <select name="username">'
            f'{options}</select></label> <button type="submit">Sign in</button></form>')
    return Response(200, raw=page.encode(), content_type="text/html; charset=utf-8")


def authorize(app: SandboxApp, req: Request) -> Response:
    """``POST /oauth/authorize``: sign the chosen agent in and redirect with a token or a code."""
    form = _form(req)
    params = {k: [v] for k, v in form.items()}
    problem = _check_authorize(params)
    if problem:
        return problem
    username = form.get("username", "")
    agent = next((a for a in app.store.org.agents.values() if username in (a.email, a.id)), None)
    if agent is None:
        return oauth_error(400, "access_denied", "Unknown user")
    now = app.clock.wall()
    redirect, state = form["redirect_uri"], form.get("state")
    if form["response_type"] == "token":
        lifetime = app.config.token_lifetime_seconds
        issued = app.tokens.issue(form["client_id"], now, lifetime, user_id=agent.id)
        app.telemetry.bump("tokens_issued")
        fragment = {"access_token": issued.value, "token_type": "bearer", "expires_in": lifetime}
        if state:
            fragment["state"] = state
        return Response(302, headers={"Location": f"{redirect}#{urlencode(fragment)}"})
    code = app.tokens.new_code(AuthCode(agent.id, form["client_id"], redirect, form.get("code_challenge"),
                                        form.get("code_challenge_method", "plain"), now + CODE_LIFETIME))
    query = {"code": code, **({"state": state} if state else {})}
    separator = "&" if "?" in redirect else "?"
    return Response(302, headers={"Location": f"{redirect}{separator}{urlencode(query)}"})


def _check_authorize(params: dict[str, list[str]]) -> Response | None:
    def one(name: str) -> str:
        return (params.get(name) or [""])[0]

    if one("client_id") != DEMO_CLIENT_ID:
        return oauth_error(400, "invalid_client", "Unknown client_id")
    if one("response_type") not in ("token", "code"):
        return oauth_error(400, "unsupported_response_type", "response_type must be token or code")
    if not one("redirect_uri"):
        return oauth_error(400, "invalid_request", "redirect_uri is required")
    if one("code_challenge_method") not in ("", "S256", "plain"):
        return oauth_error(400, "invalid_request", "code_challenge_method must be S256 or plain")
    return None


def register(router: Router) -> None:
    """Add the login-host endpoints."""
    router.add("POST", "/oauth/token", token, kind="oauth")
    router.add("GET", "/oauth/authorize", authorize_form, kind="oauth")
    router.add("POST", "/oauth/authorize", authorize, kind="oauth")
