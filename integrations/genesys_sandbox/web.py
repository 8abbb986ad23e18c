"""Small HTTP plumbing: request/response objects, routing, and Genesys ``ErrorBody`` errors."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Spec texts (§6, VERIFIED [SPEC-DOC]) and codes (partly UNVERIFIED [GO-CX]).
MESSAGES = {
    400: "The request could not be understood by the server due to malformed syntax.",
    401: "No authentication bearer token specified in authorization header.",
    403: "You are not authorized to perform the requested action.",
    404: "The requested resource was not found.",
    409: "The request conflicts with the current state of the target resource.",
    429: "Rate limit exceeded the maximum. Retry the request in [%s] seconds",
    500: "The server encountered an unexpected condition which prevented it from fulfilling the request.",
    502: "The server, while acting as a gateway or proxy, received an invalid response from the upstream server.",
    503: "Service Unavailable - The server is currently unavailable (because it is overloaded or down for maintenance).",
}
CODES = {400: "bad.request", 401: "authentication.required", 403: "not.authorized", 404: "not.found",
         409: "conflict", 429: "too.many.requests", 500: "internal.server.error", 502: "bad.gateway",
         503: "service.unavailable"}
REASONS = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 302: "Found", 400: "Bad Request",
           401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict",
           429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


class ApiError(Exception):
    """An answer in Genesys ``ErrorBody`` form; extra keys (``messageParams``, ``limit``…) pass through."""

    def __init__(self, status: int, message: str | None = None, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message or MESSAGES.get(status, "Error"))
        self.status = status
        self.message = message or MESSAGES.get(status, "Error")
        self.code = code or CODES.get(status, "error")
        self.extra = extra

    def body(self, correlation_id: str) -> dict[str, Any]:
        """The ``ErrorBody`` JSON for this error."""
        body: dict[str, Any] = {"message": self.message, "code": self.code, "status": self.status}
        body.update(self.extra)
        body.update(contextId=correlation_id, details=[], errors=[])
        return body


def forbidden(entity_type: str, entity_id: str, status: int = 403) -> ApiError:
    """The refusal the reference quotes from a real 403, adapted to the configured status."""
    if status == 403:
        return ApiError(403, f"Access to {entity_type} {entity_id} is forbidden.",
                        messageWithParams="Access to {type} {id} is forbidden.",
                        messageParams={"id": entity_id, "type": entity_type})
    return ApiError(status)


@dataclass
class Request:
    """One parsed HTTP request."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    correlation_id: str
    params: dict[str, str] = field(default_factory=dict)
    token: Any = None  # auth.Token once authenticated

    def arg(self, name: str, default: str | None = None) -> str | None:
        """First value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else default

    def args(self, name: str) -> list[str]:
        """All values of a repeated query parameter (``id[]`` or ``id``), comma lists split."""
        out: list[str] = []
        for key in (name, f"{name}[]"):
            for value in self.query.get(key, []):
                out.extend(v for v in value.split(",") if v)
        return out

    def json(self) -> Any:
        """The body parsed as JSON; 400 ``bad.request`` when it is not JSON."""
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            raise ApiError(400) from None


@dataclass
class Response:
    """An answer: a JSON body (``body``) or raw bytes (``raw``)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json"

    def payload(self) -> bytes:
        """Bytes to send."""
        if self.raw is not None:
            return self.raw
        if self.body is None:
            return b""
        return json.dumps(self.body, separators=(",", ":")).encode()


Handler = Callable[[Any, Request], Response]


class Router:
    """Maps (method, path) to a handler and its kind: ``api``, ``oauth`` or ``control``."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler, str]] = []

    def add(self, method: str, pattern: str, handler: Handler, kind: str = "api") -> None:
        """Register ``pattern`` (``{name}`` matches one path segment)."""
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        self._routes.append((method, re.compile(f"^{regex}$"), handler, kind))

    def match(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], str]:
        """(handler, path params, kind); handler is None when nothing matches."""
        kind = "control" if path.startswith("/__sandbox") else ("oauth" if path.startswith("/oauth") else "api")
        for route_method, regex, handler, route_kind in self._routes:
            found = regex.match(path)
            if found and route_method == method:
                return handler, found.groupdict(), route_kind
        return None, {}, kind
