"""Event delivery to a webhook: user.end when ACW starts, acw with the final code; bare and EventBridge."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .helpers import TIMEOUT_CODE, agents, queue_with, wait_until

pytestmark = pytest.mark.integration


class Receiver:
    """A tiny webhook endpoint recording what it is sent."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.calls: list[tuple[dict[str, str], dict]] = []
        self.arrived = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.arrived:
                    outer.calls.append((dict(self.headers), body))
                    outer.arrived.notify_all()
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/genesys/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, conversation_id: str | None = None,
                 timeout: float = 5.0) -> list[tuple[dict[str, str], dict]]:
        """Calls received (about one conversation, if given) once there are ``count`` of them."""
        def mine() -> list[tuple[dict[str, str], dict]]:
            return [c for c in self.calls if conversation_id is None or conversation_id in json.dumps(c[1])]

        with self.arrived:
            self.arrived.wait_for(lambda: len(mine()) >= count, timeout=timeout)
            return mine()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.server.shutdown()
    hook.server.server_close()


def test_bare_payloads_with_secret_header(sandbox, receiver):
    sandbox.configure(webhook_url=receiver.url, webhook_secret="s3cret")
    queue = queue_with(sandbox.org(), "MANDATORY_TIMEOUT")
    conv = sandbox.create_conversation(queueId=queue["id"], state="connected")
    agent = agents(conv)[0]
    sandbox.advance(conv["id"])  # connected → ACW
    (headers, body), = receiver.wait_for(1, conv["id"])
    assert headers["X-Wrapup-Webhook-Secret"] == "s3cret"
    assert headers["X-Wrapup-Event-Topic"] == f"v2.detail.events.conversation.{conv['id']}.user.end"
    assert body["conversationId"] == conv["id"] and body["participantId"] == agent["id"]
    assert body["userId"] == agent["userId"] and body["queueId"] == queue["id"]
    assert body["mediaType"] == "VOICE" and body["direction"] in ("INBOUND", "OUTBOUND")
    assert body["disconnectType"] == "PEER" and isinstance(body["eventTime"], int)
    assert body["sessionId"] == agent["calls"][0]["id"] and "wrapupCode" not in body
    sandbox.clock(advance_seconds=queue["timeoutMs"] / 1000)  # the ACW timer runs out
    calls = receiver.wait_for(2, conv["id"])  # (other tests' conversations may time out too)
    acw = calls[1][1]
    assert calls[1][0]["X-Wrapup-Event-Topic"].endswith(".acw")
    assert acw["wrapupCode"] == TIMEOUT_CODE and acw["wrapupDurationMs"] == queue["timeoutMs"]
    assert {"eventTime", "conversationId", "participantId", "sessionId", "mediaType", "provider", "direction", "ani",
            "dnis", "userId", "queueId", "wrapupCode", "wrapupDurationMs", "conversationExternalContactIds",
            "conversationExternalOrganizationIds"} <= set(acw)
    assert wait_until(lambda: sandbox.stats()["webhooks_delivered"] >= 2)  # counted once the answer is back


def test_eventbridge_envelope(sandbox, receiver):
    sandbox.configure(webhook_url=receiver.url, webhook_secret="s3cret", webhook_format="eventbridge")
    queue = sandbox.org()["queues"][0]
    conv = sandbox.create_conversation(queueId=queue["id"], state="acw")
    sandbox.advance(conv["id"], to="wrapped", wrapupCode=queue["codeIds"][0], notes="Invoice 123")
    calls = receiver.wait_for(2, conv["id"])
    headers, envelope = calls[1]
    topic = f"v2.detail.events.conversation.{conv['id']}.acw"
    assert headers["X-Wrapup-Webhook-Secret"] == "s3cret"
    assert envelope["detail-type"] == topic and envelope["source"].startswith("aws.partner/genesys.com")
    detail = envelope["detail"]
    assert set(detail) == {"topicName", "version", "eventBody", "metadata", "timestamp"}
    assert detail["topicName"] == topic
    assert detail["eventBody"]["wrapupCode"] == queue["codeIds"][0]
    assert detail["eventBody"]["wrapupNotes"] == "Invoice 123"
    assert calls[0][1]["detail"]["topicName"].endswith(".user.end")


def test_no_secret_header_without_a_secret_and_failures_are_counted(sandbox):
    failing = Receiver(status=500)
    try:
        sandbox.configure(webhook_url=failing.url)
        conv = sandbox.create_conversation(state="acw")
        headers, _ = failing.wait_for(1, conv["id"])[0]
        assert "X-Wrapup-Webhook-Secret" not in headers
        assert len(failing.wait_for(3, conv["id"])) == 3  # tried three times
        assert wait_until(lambda: sandbox.stats()["webhooks_failed"] == 1)
        assert sandbox.events()[-1]["delivered"] is False
    finally:
        failing.server.shutdown()
        failing.server.server_close()


def test_events_are_logged_even_without_a_webhook(sandbox):
    conv = sandbox.create_conversation(state="acw")
    topics = [e["topic"] for e in sandbox.events()]
    assert topics == [f"v2.detail.events.conversation.{conv['id']}.user.end"]
