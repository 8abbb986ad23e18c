"""Every answer maps to its typed error, with the Genesys code and the correlation id."""

from __future__ import annotations

import pytest

from integrations.genesys import (
    BadRequestError,
    ConflictError,
    ForbiddenError,
    GenesysAuthError,
    GenesysError,
    InvalidResponseError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    error_from_response,
)
from integrations.genesys.errors import redact

from .fakes import error_body, response


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "bad.request", BadRequestError),
        (401, "bad.credentials", GenesysAuthError),
        (403, "not.authorized", ForbiddenError),
        (404, "not.found", NotFoundError),
        (409, "conflict", ConflictError),
        (429, "too.many.requests", RateLimitedError),
        (500, "internal.server.error", ServerError),
        (502, "bad.gateway", ServerError),
        (503, "service.unavailable", ServerError),
        (504, "gateway.timeout", ServerError),
        (408, "request.timeout", ServerError),
        (422, "unprocessable", BadRequestError),
    ],
)
def test_status_maps_to_its_class(status: int, code: str, cls: type[GenesysError]) -> None:
    resp = response(status, error_body(status, code, "Spec text.", "ctx-9"), headers={"ININ-Correlation-Id": "corr-7"})
    error = error_from_response(resp)
    assert type(error) is cls
    assert (error.status, error.code, error.message) == (status, code, "Spec text.")
    assert error.correlation_id == "corr-7" and error.context_id == "ctx-9"
    assert error.body["contextId"] == "ctx-9"
    assert "corr-7" in str(error) and f"HTTP {status}" in str(error) and code in str(error)


def test_context_id_stands_in_when_the_header_is_missing() -> None:
    error = error_from_response(response(404, error_body(404, "not.found", context="ctx-only")))
    assert error.correlation_id == "ctx-only"
    assert "ctx-only" in str(error)


def test_forbidden_body_from_the_reference_keeps_its_message() -> None:
    body = {"status": 403, "code": "not.authorized", "message": "Access to Conversation 0ae8 is forbidden.",
            "messageWithParams": "Access to {type} {id} is forbidden.", "messageParams": {"id": "0ae8", "type": "Conversation"},
            "contextId": "8d83", "details": [], "errors": []}
    error = error_from_response(response(403, body))
    assert isinstance(error, ForbiddenError) and error.message == "Access to Conversation 0ae8 is forbidden."


def test_rate_limited_carries_retry_after() -> None:
    resp = response(429, error_body(429, "too.many.requests"), headers={"Retry-After": "3", "inin-ratelimit-reset": "9"})
    error = error_from_response(resp)
    assert isinstance(error, RateLimitedError) and error.retry_after == 3.0


@pytest.mark.parametrize(
    ("headers", "expected"), [({"inin-ratelimit-reset": "7"}, 7.0), ({"Retry-After": "soon"}, 3.0), ({}, 3.0)]
)
def test_rate_limited_always_says_how_long_to_wait(headers: dict[str, str], expected: float) -> None:
    # The wait comes from retry_after_seconds (its precedence is tested in test_pacing.py).
    error = error_from_response(response(429, error_body(429, "too.many.requests"), headers=headers))
    assert isinstance(error, RateLimitedError) and error.retry_after == expected


def test_rate_limited_takes_the_wait_its_caller_worked_out() -> None:
    resp = response(429, error_body(429, "too.many.requests"), headers={"Retry-After": "30"})
    assert error_from_response(resp, retry_after=12.0).retry_after == 12.0  # type: ignore[attr-defined]


def test_html_proxy_page_is_a_typed_error_with_its_title_only() -> None:
    html = "<html><head><title>502 Bad Gateway</title></head><body>nginx secret-internal-host</body></html>"
    error = error_from_response(response(502, text=html, content_type="text/html"))
    assert isinstance(error, ServerError)
    assert "502 Bad Gateway" in error.message and "text/html" in error.message
    assert "secret-internal-host" not in str(error)
    assert error.code is None and error.body is None


def test_non_json_without_title_reports_type_and_size() -> None:
    error = error_from_response(response(500, text="oops", content_type="text/plain"))
    assert isinstance(error, ServerError) and "text/plain, 4 bytes" in error.message


def test_oauth_style_error_body_is_read() -> None:
    error = error_from_response(response(401, {"error": "invalid_client", "description": "client not found"}))
    assert isinstance(error, GenesysAuthError)
    assert error.code == "invalid_client" and error.message == "client not found"


def test_redirect_is_not_mistaken_for_success() -> None:
    error = error_from_response(response(302, text="", headers={"Location": "https://sso.example/login"}))
    assert isinstance(error, InvalidResponseError)


def test_secrets_are_redacted_from_messages() -> None:
    body = error_body(400, "bad.request", "header was Bearer abc.def.ghi and secret hunter2")
    error = error_from_response(response(400, body), secrets=("hunter2",))
    assert "abc.def.ghi" not in str(error) and "hunter2" not in str(error)
    assert redact("Authorization: Basic dXNlcjpwYXNz") == "Authorization: Basic ***"


def test_secrets_are_redacted_from_the_body_kept_on_the_error() -> None:
    body = error_body(400, "bad.request", "rejected")
    body["details"] = [{"header": "Bearer abc.def.ghi", "echo": "secret hunter2 again"}]
    error = error_from_response(response(400, body), secrets=("hunter2",))
    assert "hunter2" not in repr(error.body) and "abc.def.ghi" not in repr(error.body)
    assert error.body["details"][0]["echo"] == "secret *** again"
