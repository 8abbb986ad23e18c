"""Small helpers shared by the sandbox tests."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

ERROR_KEYS = {"message", "code", "status", "contextId", "details", "errors"}
TIMEOUT_CODE = "ININ-WRAP-UP-TIMEOUT"


def agents(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    """Agent participants of a Conversation JSON, in order."""
    return [p for p in conversation["participants"] if p["purpose"] == "agent"]


def customer(conversation: dict[str, Any]) -> dict[str, Any]:
    """The customer participant."""
    return next(p for p in conversation["participants"] if p["purpose"] == "customer")


def stamp(ts: float) -> str:
    """Epoch seconds → ISO-8601 with Z."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def sandbox_now(sandbox: Any) -> float:
    """The sandbox's simulated time, in epoch seconds."""
    text = sandbox.clock()["now"]
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def interval(sandbox: Any, days_back: float = 30, ahead: float = 3600) -> str:
    """An analytics interval around the sandbox's now."""
    now = sandbox_now(sandbox)
    return f"{stamp(now - days_back * 86400)}/{stamp(now + ahead)}"


def queue_with(org: dict[str, Any], prompt: str) -> dict[str, Any]:
    """The first queue whose ACW prompt is ``prompt``."""
    return next(q for q in org["queues"] if q["wrapupPrompt"] == prompt)


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The answer is a Genesys ErrorBody with this status and code, echoing the correlation id."""
    assert response.status_code == status, response.text
    body = response.json()
    assert ERROR_KEYS <= set(body), body
    assert body["status"] == status and body["code"] == code, body
    assert body["contextId"] == response.headers["ININ-Correlation-Id"]
    assert body["details"] == [] and body["errors"] == []
    return body


def wait_until(condition: Any, timeout: float = 5.0) -> Any:
    """Poll ``condition()`` until truthy (for work the sandbox finishes in a background thread)."""
    import threading
    import time

    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        pause.wait(0.02)
