"""Counters and the request log that tests read through ``/__sandbox/stats`` and ``/requests``."""

from __future__ import annotations

import threading
from collections import Counter, deque
from typing import Any

COUNTERS = ("requests", "rate_limited", "injected_errors", "dropped", "answers_lost", "tokens_issued", "webhooks_delivered",
            "webhooks_failed")


class Telemetry:
    """Thread-safe counters, per-participant write counts and a bounded request log."""

    def __init__(self, log_size: int = 20000) -> None:
        self._lock = threading.Lock()
        self._log: deque[dict[str, Any]] = deque(maxlen=log_size)
        self.clear()

    def clear(self) -> None:
        """Zero every counter and empty the log."""
        with self._lock:
            self._counters = Counter({name: 0 for name in COUNTERS})
            self._writes: Counter[str] = Counter()
            self._refused: Counter[str] = Counter()
            self._log.clear()

    def bump(self, name: str, amount: int = 1) -> None:
        """Add to a named counter."""
        with self._lock:
            self._counters[name] += amount

    def count_write(self, key: str, *, accepted: bool) -> None:
        """One wrap-up write on ``conversationId/participantId``, answered 2xx or refused."""
        with self._lock:
            (self._writes if accepted else self._refused)[key] += 1

    def forget_conversations(self, conversation_ids: set[str]) -> None:
        """Drop the write counts of conversations the store has evicted (they would grow for ever)."""
        with self._lock:
            for counter in (self._writes, self._refused):
                for key in [k for k in counter if k.partition("/")[0] in conversation_ids]:
                    del counter[key]

    def record(self, entry: dict[str, Any]) -> None:
        """Append to the request log (never headers or bodies, so never a secret)."""
        with self._lock:
            self._log.append(entry)

    def snapshot(self) -> dict[str, Any]:
        """Counters as JSON."""
        with self._lock:
            data: dict[str, Any] = dict(self._counters)
            data["writes"] = dict(self._writes)
            data["writes_refused"] = dict(self._refused)
            return data

    def requests(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The most recent log entries, oldest first."""
        with self._lock:
            entries = list(self._log)
        return entries[-limit:] if limit else entries
