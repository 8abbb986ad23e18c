"""Test doubles for the Genesys client: a scripted ``requests`` session and a fake clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from requests.structures import CaseInsensitiveDict

from integrations.genesys import GenesysClient, InProcessPacer, RetryPolicy

API = "https://api.example.test"
LOGIN = "https://login.example.test"
CLIENT_ID = "portal-client"
SECRET = "s3cr3t-never-shown"
TOKEN = "tok-abcdef0123456789-never-shown"
CID = "0ae82ce3-5c8e-4865-82d4-caa2a4e6a1de"
PID = "7dd60e2f-7c6d-44b0-a894-0bd3b8840f46"
CODE = "79b7b583-9ab6-4b0c-a6c6-9317fa652c0f"
QUEUE = "5f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"

REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           408: "Request Timeout", 409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


def response(status: int = 200, body: Any = None, *, text: str | None = None, headers: dict[str, str] | None = None,
             content_type: str = "application/json") -> requests.Response:
    """A real ``requests.Response`` with the given status, JSON body (or raw text) and headers."""
    resp = requests.Response()
    resp.status_code = status
    resp.reason = REASONS.get(status, "")
    raw = text if text is not None else ("" if body is None else json.dumps(body))
    resp._content = raw.encode()
    resp.headers = CaseInsensitiveDict({"Content-Type": content_type, **(headers or {})})
    resp.encoding = "utf-8"
    return resp


def error_body(status: int, code: str, message: str = "boom", context: str = "ctx-1") -> dict[str, Any]:
    return {"message": message, "code": code, "status": status, "contextId": context, "details": [], "errors": []}


def token_response(value: str = TOKEN, expires_in: int = 86400) -> requests.Response:
    return response(200, {"access_token": value, "token_type": "bearer", "expires_in": expires_in})


Handler = Callable[[str, str, dict[str, Any]], "requests.Response"]


class FakeSession:
    """Answers from a script: a list of responses/exceptions per API call, tokens served automatically.

    ``calls`` records every API request (method, path with query, kwargs); ``token_calls`` the token requests.
    """

    def __init__(self, *script: Any, handler: Handler | None = None, tokens: list[Any] | None = None) -> None:
        self.script = list(script)
        self.handler = handler
        self.tokens = tokens  # None: always a fresh valid token
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.token_calls: list[dict[str, Any]] = []
        self._issued = 0

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        assert url == f"{LOGIN}/oauth/token", url
        self.token_calls.append(kwargs)
        if self.tokens is not None:
            item = self.tokens.pop(0)
            if isinstance(item, BaseException):
                raise item
            return item
        self._issued += 1
        return token_response(f"{TOKEN}-{self._issued}")

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        parts = urlsplit(url)
        # As requests would send it: the URL's own query, then ``params``.
        query = "&".join(q for q in (parts.query, urlencode(kwargs.get("params") or {})) if q)
        path = parts.path + (f"?{query}" if query else "")
        self.calls.append((method, path, kwargs))
        if self.handler is not None:
            return self.handler(method, path, kwargs)
        assert self.script, f"unexpected request {method} {path}"
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item


class FakeClock:
    """A clock that only moves when slept on; records every sleep."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(seconds, 0.0)


def make_client(session: FakeSession, clock: FakeClock | None = None, **kwargs: Any) -> GenesysClient:
    """A client on the fake session and clock, with jitter fixed at its midpoint."""
    clock = clock or FakeClock()
    kwargs.setdefault("retry", RetryPolicy())
    kwargs.setdefault("pacer", InProcessPacer(clock=clock, sleep=clock.sleep))
    return GenesysClient(
        client_id=CLIENT_ID, client_secret=SECRET, api_url=API, login_url=LOGIN, session=session,  # type: ignore[arg-type]
        clock=clock, sleep=clock.sleep, rng=lambda: 0.5, **kwargs,
    )
