"""Delivery of conversation events to a webhook, as a Process Automation workflow (bare
payload) or an EventBridge API destination (envelope, §7) would POST them.

Deliveries run in one background thread, in order, with a few quick retries. Every event
is also kept in a bounded log (``GET /__sandbox/events``), webhook or not. At most
``MAX_PENDING`` deliveries wait: a receiver that hangs must not make the sandbox grow for ever.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .clock import iso
from .events import topic_name

if TYPE_CHECKING:
    from .app import SandboxApp

SECRET_HEADER = "X-Wrapup-Webhook-Secret"
TOPIC_HEADER = "X-Wrapup-Event-Topic"
RETRY_DELAYS = (0.2, 0.5)
MAX_PENDING = 5000


def eventbridge_envelope(topic: str, payload: dict[str, Any], org_id: str) -> dict[str, Any]:
    """The EventBridge event around a Genesys notification (shape UNVERIFIED, §7)."""
    when = datetime.fromtimestamp(payload.get("eventTime", 0) / 1000, tz=timezone.utc)
    stamp = iso(when.timestamp())
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": topic,
            "source": f"aws.partner/genesys.com/cloud/{org_id}/wrapup-portal", "account": "000000000000",
            "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "us-east-1", "resources": [],
            "detail": {"topicName": topic, "version": "2", "eventBody": payload,
                       "metadata": {"CorrelationId": str(uuid.uuid4())}, "timestamp": stamp}}


class WebhookSender:
    """Queues events and POSTs them to ``config.webhook_url`` when one is set."""

    def __init__(self, app: SandboxApp) -> None:
        self.app = app
        self._queue: queue.Queue[tuple[dict[str, Any], dict[str, Any]]] = queue.Queue(maxsize=MAX_PENDING)
        self.log: deque[dict[str, Any]] = deque(maxlen=5000)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def submit(self, suffix: str, payload: dict[str, Any]) -> None:
        """Called by the state machine (store lock held): record, and queue a delivery."""
        cfg = self.app.config
        topic = topic_name(payload["conversationId"], suffix)
        entry: dict[str, Any] = {"topic": topic, "payload": payload, "delivered": None, "status": None}
        with self._lock:
            self.log.append(entry)
        if cfg.webhook_url:
            body = (payload if cfg.webhook_format == "bare"
                    else eventbridge_envelope(topic, payload, self.app.store.org.id))
            entry["url"] = cfg.webhook_url
            try:
                self._queue.put_nowait((entry, {"url": cfg.webhook_url, "secret": cfg.webhook_secret,
                                                "body": body, "topic": topic}))
            except queue.Full:  # never block the simulator: the event is logged as not delivered
                entry.update(delivered=False, status=None)
                self.app.telemetry.bump("webhooks_failed")

    def start(self) -> None:
        """Start the delivery thread."""
        if self._thread is None:
            self._stopping = threading.Event()  # one per thread: a late one never resumes
            self._thread = threading.Thread(target=self._run, args=(self._stopping,), name="sandbox-webhook",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop after the current delivery."""
        if self._thread is not None:
            self._stopping.set()
            self._thread.join(timeout=2)
            self._thread = None

    def events(self, limit: int | None = None) -> list[dict[str, Any]]:
        """Recent events, oldest first."""
        with self._lock:
            entries = list(self.log)
        return entries[-limit:] if limit else entries

    def clear(self) -> None:
        """Forget the event log."""
        with self._lock:
            self.log.clear()

    def _run(self, stopping: threading.Event) -> None:
        while not stopping.is_set():
            try:
                entry, job = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            status = self._deliver(job)
            entry.update(delivered=status is not None and 200 <= status < 300, status=status)
            self.app.telemetry.bump("webhooks_delivered" if entry["delivered"] else "webhooks_failed")

    def _deliver(self, job: dict[str, Any]) -> int | None:
        data = json.dumps(job["body"]).encode()
        # The topic header is a convenience a workflow's data action can send; the portal must
        # not need it (EventBridge carries the topic in detail-type, a bare payload nowhere).
        headers = {"Content-Type": "application/json", TOPIC_HEADER: job["topic"]}
        if job["secret"]:
            headers[SECRET_HEADER] = job["secret"]
        status: int | None = None
        for delay in (0.0,) + RETRY_DELAYS:
            time.sleep(delay)
            request = urllib.request.Request(job["url"], data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    return answer.status
            except urllib.error.HTTPError as err:
                status = err.code
                if err.code < 500:
                    return status  # the receiver refused it: retrying will not help
            except (urllib.error.URLError, OSError):
                status = None
        return status
