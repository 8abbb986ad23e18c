"""A small OpenID Connect provider for tests: stdlib HTTP on a free loopback port, no network.

It serves discovery, authorize (redirects back at once with a code and the state, for the user
the test chose), token (an RS256 id_token signed with a key made at start, plus an access
token; client_secret_basic and PKCE S256 checked), userinfo and JWKS. Knobs let a test make it
misbehave: sign with another key, tamper with the signature, send another nonce.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

KID = "test-key-1"
ROLE_GROUPS = {"team_lead": ("cc-leads",), "admin": ("cc-admins", "cc-ops"), "compliance": ("cc-audit",)}


@dataclass
class Knobs:
    """How the next answers go wrong (all off: a correct provider)."""

    tamper_signature: bool = False
    foreign_key: bool = False
    wrong_nonce: bool = False
    wrong_audience: bool = False
    userinfo_other_sub: bool = False
    token_error: bool = False


@dataclass
class Grant:
    claims: dict[str, Any]
    redirect_uri: str
    nonce: str
    challenge: str


@dataclass
class OIDCProvider:
    client_id: str = "wrapup-portal"
    client_secret: str = "oidc-client-secret-5b0d"
    user: dict[str, Any] = field(default_factory=dict)  # claims of whoever signs in next
    knobs: Knobs = field(default_factory=Knobs)
    codes: dict[str, Grant] = field(default_factory=dict)
    access_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    id_tokens: list[str] = field(default_factory=list)
    token_requests: int = 0

    def __post_init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Handler,), {"provider": self}))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def start(self) -> OIDCProvider:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self) -> None:
        self.user, self.knobs, self.token_requests = {}, Knobs(), 0
        self.codes.clear()
        self.access_tokens.clear()
        self.id_tokens.clear()

    def switch_on(self, settings: Any) -> None:
        """Point the portal's single sign-on at this provider (pytest-django's ``settings``)."""
        settings.PORTAL_OIDC_ENABLED = True
        settings.PORTAL_OIDC_CLIENT_ID = settings.OIDC_RP_CLIENT_ID = self.client_id
        settings.OIDC_RP_CLIENT_SECRET = self.client_secret
        settings.PORTAL_OIDC_ISSUER = self.url
        settings.PORTAL_OIDC_ENDPOINTS = {"authorization": "", "token": "", "userinfo": "", "jwks": ""}
        settings.PORTAL_OIDC_PROVIDER_NAME = "Example IdP"
        settings.PORTAL_OIDC_ROLE_GROUPS = ROLE_GROUPS
        backend = "wrapup_portal.accounts.oidc.PortalOIDCBackend"
        settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, backend]

    # -- documents --------------------------------------------------------------------
    def discovery(self) -> dict[str, Any]:
        return {"issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token", "userinfo_endpoint": f"{self.url}/userinfo",
                "jwks_uri": f"{self.url}/jwks", "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"]}

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]}

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims = {"iss": self.url, "aud": "someone-else" if self.knobs.wrong_audience else self.client_id,
                  "iat": now, "exp": now + 300, "nonce": "not-the-nonce" if self.knobs.wrong_nonce else grant.nonce,
                  **grant.claims}
        token = jwt.encode(claims, self.other_key if self.knobs.foreign_key else self.key, algorithm="RS256",
                           headers={"kid": KID})
        if self.knobs.tamper_signature:
            head, body, signature = token.split(".")
            raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
            raw[10] ^= 0xFF
            token = ".".join([head, body, base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")])
        return token


class _Handler(BaseHTTPRequestHandler):
    provider: OIDCProvider

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        p = self.provider
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/.well-known/openid-configuration":
            return self._json(200, p.discovery())
        if parts.path == "/jwks":
            return self._json(200, p.jwks())
        if parts.path == "/authorize":
            if query.get("client_id") != p.client_id or query.get("response_type") != "code":
                return self._json(400, {"error": "invalid_request"})
            if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
                return self._json(400, {"error": "invalid_request", "error_description": "PKCE required"})
            code = secrets.token_urlsafe(16)
            p.codes[code] = Grant(dict(p.user), query["redirect_uri"], query.get("nonce", ""), query["code_challenge"])
            self.send_response(302)
            back = urlencode({"code": code, "state": query["state"]})
            self.send_header("Location", f"{query['redirect_uri']}?{back}")
            self.end_headers()
            return None
        if parts.path == "/userinfo":
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            if token not in p.access_tokens:
                return self._json(401, {"error": "invalid_token"})
            info = p.access_tokens[token]
            return self._json(200, {**info, "sub": "someone-else"} if p.knobs.userinfo_other_sub else info)
        return self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        p = self.provider
        if self.path != "/token":
            return self._json(404, {"error": "not_found"})
        p.token_requests += 1
        if p.knobs.token_error:
            return self._json(500, {"error": "server_error", "error_description": "try later"})
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        form = {k: v[0] for k, v in parse_qs(raw).items()}
        expected = "Basic " + base64.b64encode(f"{p.client_id}:{p.client_secret}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            return self._json(401, {"error": "invalid_client"})
        grant = p.codes.pop(form.get("code", ""), None)  # a code is good for one exchange
        if grant is None or form.get("redirect_uri") != grant.redirect_uri:
            return self._json(400, {"error": "invalid_grant"})
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        if challenge != grant.challenge:
            return self._json(400, {"error": "invalid_grant", "error_description": "PKCE verifier"})
        access = secrets.token_urlsafe(24)
        p.access_tokens[access] = dict(grant.claims)
        id_token = p.id_token(grant)
        p.id_tokens.append(id_token)
        return self._json(200, {"access_token": access, "token_type": "Bearer", "expires_in": 300,
                                "id_token": id_token})
