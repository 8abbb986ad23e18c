"""Thread-safe in-memory state: the organisation, conversations, indexes and timers.

One re-entrant lock guards everything. Handlers hold it only while they read or change
state; rendering JSON of a page happens under it too, which is cheap because pages are
small. Conversations are indexed by start time (sorted lists + bisect) so that analytics
intervals touch only the conversations they can match, even with 100k loaded.

Live and control-made conversations are evicted some time after they end
(``evict_ended_before``); the seeded history never is, so memory stays bounded by the
history's size plus the retention's worth of traffic.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import threading
from collections.abc import Callable, Iterator
from typing import Any

from .model import Conversation
from .orggen import Org

Emitter = Callable[[str, dict[str, Any]], None]
EvictionHook = Callable[[list[Conversation]], None]


class Store:
    """Organisation, conversations and pending simulator timers."""

    def __init__(self, org: Org) -> None:
        self.lock = threading.RLock()
        self.org = org
        self.conversations: dict[str, Conversation] = {}
        self._starts: list[float] = []
        self._ids: list[str] = []
        self._timers: list[tuple[float, int, str, str, str]] = []
        self._seq = itertools.count()
        # (start, id) of the conversations that may be evicted (not seeded history), by start.
        self._evictable: list[tuple[float, str]] = []
        self.evicted = 0
        self.emit: Emitter = lambda topic, payload: None
        self.on_evict: EvictionHook = lambda convs: None

    # -- conversations -------------------------------------------------------------------
    def add(self, conv: Conversation) -> None:
        """Index a conversation by id and start time."""
        with self.lock:
            self.conversations[conv.id] = conv
            if conv.origin != "history":
                self._track(conv)
            if not self._starts or conv.start >= self._starts[-1]:
                self._starts.append(conv.start)
                self._ids.append(conv.id)
            else:  # rare: a control-created conversation back-dated into history
                pos = bisect.bisect_right(self._starts, conv.start)
                self._starts.insert(pos, conv.start)
                self._ids.insert(pos, conv.id)

    def add_sorted_bulk(self, convs: list[Conversation]) -> None:
        """Load many conversations already sorted by start (history generation)."""
        with self.lock:
            if self._starts and convs and convs[0].start < self._starts[-1]:
                for conv in convs:
                    self.add(conv)
                return
            for conv in convs:
                self.conversations[conv.id] = conv
                if conv.origin != "history":
                    self._track(conv)
            self._starts.extend(c.start for c in convs)
            self._ids.extend(c.id for c in convs)

    def get(self, conversation_id: str) -> Conversation | None:
        """The conversation with this id, if any."""
        return self.conversations.get(conversation_id)

    def started_between(self, start: float, end: float) -> Iterator[Conversation]:
        """Conversations with ``start <= conversation start < end``, oldest first."""
        lo = bisect.bisect_left(self._starts, start)
        hi = bisect.bisect_left(self._starts, end)
        ids, convs = self._ids, self.conversations
        for i in range(lo, hi):
            yield convs[ids[i]]

    def count(self) -> int:
        """Number of conversations held."""
        return len(self.conversations)

    def evict_ended_before(self, cutoff: float) -> int:
        """Forget live and control-made conversations that ended before ``cutoff``; how many went.

        Seeded history and conversations still going are kept. Both indexes lose the same ids,
        so ``get`` answers None and ``started_between`` skips them: the API then answers 404 and
        analytics no longer lists them.
        """
        with self.lock:
            gone: list[Conversation] = []
            kept: list[tuple[float, str]] = []
            pending = self._evictable
            # Nothing that started after the cutoff can have ended before it.
            stop = bisect.bisect_left(pending, (cutoff, ""))
            for item in pending[:stop]:
                conv = self.conversations[item[1]]
                if conv.end is not None and conv.end < cutoff:
                    gone.append(conv)
                else:
                    kept.append(item)  # still going: never evicted
            if not gone:
                return 0
            self._evictable[:stop] = kept
            self._unindex(gone)
            self.evicted += len(gone)
            self.on_evict(gone)
            return len(gone)

    def _track(self, conv: Conversation) -> None:
        item = (conv.start, conv.id)
        if not self._evictable or item >= self._evictable[-1]:
            self._evictable.append(item)
        else:  # a back-dated control-made conversation, or a live one queued a little longer
            bisect.insort(self._evictable, item)

    def _unindex(self, gone: list[Conversation]) -> None:
        ids = {conv.id for conv in gone}
        for cid in ids:
            del self.conversations[cid]
        # Only the stretch of the start index between the oldest and newest evicted start changes.
        lo = bisect.bisect_left(self._starts, min(conv.start for conv in gone))
        hi = bisect.bisect_right(self._starts, max(conv.start for conv in gone))
        pairs = [(start, cid) for start, cid in zip(self._starts[lo:hi], self._ids[lo:hi]) if cid not in ids]
        self._starts[lo:hi] = [start for start, _ in pairs]
        self._ids[lo:hi] = [cid for _, cid in pairs]

    # -- timers --------------------------------------------------------------------------
    def schedule(self, due: float, kind: str, conversation_id: str, participant_id: str = "") -> None:
        """Run ``kind`` for this conversation/participant once simulated time reaches ``due``."""
        with self.lock:
            heapq.heappush(self._timers, (due, next(self._seq), kind, conversation_id, participant_id))

    def pop_due(self, now: float) -> tuple[str, str, str, float] | None:
        """The earliest timer due at ``now``, removed, as (kind, conversation id, participant id, due)."""
        with self.lock:
            if self._timers and self._timers[0][0] <= now:
                due, _, kind, cid, pid = heapq.heappop(self._timers)
                return kind, cid, pid, due
            return None

    def next_due(self) -> float | None:
        """When the earliest timer is due, if any."""
        with self.lock:
            return self._timers[0][0] if self._timers else None

    def pending_timers(self) -> int:
        """How many timers are waiting."""
        return len(self._timers)
