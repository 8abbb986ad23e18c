"""One error hierarchy for everything that can go wrong talking to Genesys Cloud.

Every error carries the HTTP status, the Genesys ``code`` from the ErrorBody, the message and
the ``ININ-Correlation-Id`` (falling back to the body's ``contextId``), so that a failure seen
in the portal can be traced in Genesys support. ``error_from_response`` is the one place that
turns an HTTP answer into its class.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import requests

from .pacing import retry_after_seconds

CORRELATION_HEADER = "ININ-Correlation-Id"
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_BEARER = re.compile(r"(bearer|basic)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


class GenesysError(Exception):
    """Any failure talking to Genesys Cloud."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        correlation_id: str | None = None,
        body: Any = None,
        context_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.correlation_id = correlation_id or context_id
        self.context_id = context_id
        self.body = body

    def __str__(self) -> str:
        details = []
        if self.status is not None:
            details.append(f"HTTP {self.status}")
        if self.code:
            details.append(f"code {self.code}")
        if self.correlation_id:
            details.append(f"correlation id {self.correlation_id}")
        return f"{self.message} ({', '.join(details)})" if details else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r}, code={self.code!r}, correlation_id={self.correlation_id!r})"


class GenesysConfigurationError(GenesysError):
    """The client is set up wrongly (unknown region, rejected client credentials); retrying cannot help."""


class UnknownRegionError(GenesysConfigurationError, ValueError):
    """The region is not one of the Genesys Cloud regions the client knows."""


class InvalidArgumentError(GenesysError, ValueError):
    """An argument (an id, a page size, a query filter) is malformed; nothing was sent."""


class InvalidResponseError(GenesysError):
    """Genesys (or a proxy in front of it) answered something that is not the expected JSON."""


class GenesysAuthError(GenesysError):
    """401: the token is missing, expired or rejected (after one re-authentication)."""


class BadClientCredentialsError(GenesysAuthError, GenesysConfigurationError):
    """The OAuth server refused the client id or secret; never retried."""


class ForbiddenError(GenesysError):
    """403: the client may not do this (permissions, or Genesys refuses the action)."""


class NotFoundError(GenesysError):
    """404: the entity does not exist (or is not visible to this client)."""


class BadRequestError(GenesysError):
    """400 (and other 4xx without a class of their own): the request was not accepted."""


class ConflictError(GenesysError):
    """409: the request conflicts with the current state of the entity."""


class RateLimitedError(GenesysError):
    """429: the quota is exhausted and the request was not applied; ``retry_after``: seconds to wait."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(GenesysError):
    """5xx or 408: Genesys or a proxy failed; reads are retried first, a write's outcome is unknown."""


class GenesysConnectionError(GenesysError):
    """No HTTP answer at all: connection refused, reset, DNS failure or a timeout."""


class OutcomeUnknownError(GenesysConnectionError):
    """A write was sent but no answer came back: it may or may not have been applied. Read back."""


_BY_STATUS: dict[int, type[GenesysError]] = {
    400: BadRequestError,
    401: GenesysAuthError,
    403: ForbiddenError,
    404: NotFoundError,
    408: ServerError,
    409: ConflictError,
    429: RateLimitedError,
}


def error_class_for(status: int) -> type[GenesysError]:
    """The error class for an HTTP status (unknown 4xx → BadRequestError, 5xx → ServerError)."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    if 400 <= status < 500:
        return BadRequestError
    return InvalidResponseError


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Remove credentials from a text that may end up in a message or a log line."""
    text = _BEARER.sub(lambda m: f"{m.group(1)} ***", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _redacted(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` (a parsed JSON body) with ``redact`` applied to every string in it."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, list):
        return [_redacted(item, secrets) for item in value]
    if isinstance(value, dict):
        return {key: _redacted(item, secrets) for key, item in value.items()}
    return value


def _json_body(response: requests.Response) -> Any:
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        return None


def _describe_non_json(response: requests.Response) -> str:
    """A short, safe description of a non-JSON answer (typically an HTML page from a proxy)."""
    content_type = response.headers.get("Content-Type", "no content type").split(";")[0].strip()
    text = response.text or ""
    title = _TITLE.search(text)
    if title:
        snippet = " ".join(title.group(1).split())[:120]
        return f"non-JSON answer ({content_type}): {snippet!r}"
    return f"non-JSON answer ({content_type}, {len(response.content or b'')} bytes)"


def error_from_response(
    response: requests.Response, *, secrets: tuple[str, ...] = (), retry_after: float | None = None
) -> GenesysError:
    """Build the typed error for a non-2xx answer (ErrorBody, OAuth error or anything else).

    ``retry_after``: for a 429, the wait the caller already worked out (the transport does, on
    its own clock and policy); without it, ``retry_after_seconds`` reads the headers now.
    """
    status = response.status_code
    correlation_id = response.headers.get(CORRELATION_HEADER)
    body = _json_body(response)
    code: str | None = None
    context_id: str | None = None
    if isinstance(body, dict) and ("message" in body or "code" in body):
        # Genesys ErrorBody: message, code, status, contextId, details, errors, limit.
        message = str(body.get("message") or response.reason or "error")
        code = str(body["code"]) if body.get("code") else None
        context_id = str(body["contextId"]) if body.get("contextId") else None
    elif isinstance(body, dict) and "error" in body:
        # OAuth server style: {"error": "invalid_client", "description"|"error_description": ...}.
        code = str(body["error"])
        message = str(body.get("description") or body.get("error_description") or code)
    else:
        message = f"{response.reason or 'HTTP error'}: {_describe_non_json(response)}"
    message = redact(message, secrets)
    body = _redacted(body, secrets)  # kept on the error, so callers may log or store it
    cls = error_class_for(status)
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code,
        "correlation_id": correlation_id,
        "context_id": context_id,
        "body": body,
    }
    if cls is RateLimitedError:
        if retry_after is None:
            retry_after = retry_after_seconds(response.headers, now=time.time())
        return RateLimitedError(message, retry_after=retry_after, **kwargs)
    return cls(message, **kwargs)
