"""Pacing under the Genesys quota, from the ``inin-ratelimit-*`` headers (docs/genesys-api.md §6).

Genesys counts requests per token in fixed windows and tells every answer how many were used
(``count``), how many are allowed (``allowed``) and how many seconds remain (``reset``). The
pacer keeps, per bucket (one bucket per token), how much of the current window is spent,
counting requests still in flight, and:

* lets requests through while most of the window's budget is left;
* spreads the last ``spread_fraction`` of the budget over the time left, so the quota is used
  evenly instead of being burnt and then waited for;
* once the budget is spent, holds every caller until the window has certainly reset.

The decision logic works on a plain ``PacingState``; where that state lives is the only thing
that varies: ``InProcessPacer`` keeps it in memory behind a lock (threads of one process), the
portal's cache pacer keeps it in the shared Django cache (processes of one deployment).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

# When the budget is spent but no answer has told us when the window ends yet.
UNKNOWN_WINDOW_WAIT = 1.0
# Sleep a little past the computed reset so the first request lands in the new window.
RESET_GUARD = 0.02
# After a 429 that says nothing about when to come back (docs/genesys-api.md §6: 3 s, as the SDKs do).
DEFAULT_RETRY_AFTER = 3.0
# Never wait longer than this on one 429, whatever it asked: retries stay bounded in time.
MAX_RETRY_AFTER = 120.0


def retry_after_seconds(
    headers: Mapping[str, str],
    *,
    now: float,
    default: float = DEFAULT_RETRY_AFTER,
    cap: float = MAX_RETRY_AFTER,
) -> float:
    """Seconds to wait after a 429 before the request may be sent again: the one place that decides.

    ``Retry-After`` first (seconds, or an HTTP-date measured from ``now``), else
    ``inin-ratelimit-reset`` (seconds until the window resets), else ``default``; never more
    than ``cap``. A header that does not parse is skipped, not trusted.
    """
    wait = _retry_after_header(headers.get("Retry-After"), now)
    if wait is None:
        wait = _seconds(headers.get("inin-ratelimit-reset"))
    return min(default if wait is None else wait, cap)


def _retry_after_header(value: str | None, now: float) -> float | None:
    seconds = _seconds(value)
    if seconds is not None or value is None:
        return seconds
    # RFC 9110 also allows an HTTP-date; Genesys sends seconds, a proxy in front of it may not.
    try:
        when = parsedate_to_datetime(str(value).strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)  # an HTTP-date is always GMT
    return max(when.timestamp() - now, 0.0)


def _seconds(value: str | None) -> float | None:
    """A finite, non-negative number of seconds, else None."""
    if value is None:
        return None
    try:
        seconds = float(str(value).strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


@dataclass(frozen=True)
class RateLimitSnapshot:
    """What one answer said about the quota, and when (the client's clock) it was sent and received.

    ``retry_after`` is set for a 429 only: the seconds ``retry_after_seconds`` says to wait.
    """

    status: int
    allowed: int | None
    count: int | None
    reset: float | None
    retry_after: float | None
    sent_at: float
    received_at: float

    @classmethod
    def from_headers(
        cls,
        status: int,
        headers: Mapping[str, str],
        *,
        sent_at: float,
        received_at: float,
        retry_after: float | None = None,
    ) -> RateLimitSnapshot:
        """Read the ``inin-ratelimit-*`` headers (missing or bad ones are None) and, for a 429, the wait.

        ``retry_after`` is the wait already worked out by the caller (the transport, under its
        retry policy); without it a 429's wait comes from ``retry_after_seconds`` with its defaults.
        """
        if status == 429 and retry_after is None:
            retry_after = retry_after_seconds(headers, now=received_at)
        return cls(
            status=status,
            allowed=_number(headers.get("inin-ratelimit-allowed"), int),
            count=_number(headers.get("inin-ratelimit-count"), int),
            reset=_number(headers.get("inin-ratelimit-reset"), float),
            retry_after=retry_after if status == 429 else None,
            sent_at=sent_at,
            received_at=received_at,
        )


def _number(value: str | None, kind: Callable[[str], Any]) -> Any:
    if value is None:
        return None
    try:
        number = kind(str(value).strip())
    except ValueError:
        return None
    return number if number >= 0 else None


class Pacer(Protocol):
    """Decides when a request may be sent; shared by every request of a bucket."""

    def acquire(self, bucket: str) -> int:
        """Block until a request may be sent; returns the window epoch to pass to ``observe``."""

    def observe(self, bucket: str, epoch: int, snapshot: RateLimitSnapshot) -> None:
        """Record what an answer said about the quota."""


@dataclass
class PacingState:
    """One bucket's view of its current quota window (times on the pacer's clock)."""

    epoch: int = 0
    allowed: int | None = None
    count: int = 0  # requests spent in this window: the higher of ours and the server's count
    window_end: float | None = None  # latest moment the window can end
    next_slot: float = 0.0  # when spreading: earliest time for the next request
    window_seconds: float | None = None  # longest reset seen: about the window's length
    epoch_started: float | None = None  # first request of this window (ours)
    rate_limited: int = 0  # 429s seen (for reports)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> PacingState:
        if not data:
            return cls()
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class PacingPolicy:
    """Tuning: ``margin`` requests of every window are never used; the last ``spread_fraction`` is spread."""

    margin: int = 0
    spread_fraction: float = 0.2


def decide(state: PacingState, now: float, policy: PacingPolicy) -> tuple[float, bool]:
    """(seconds to wait, whether a request was booked). Booked means: send after the wait."""
    if state.window_end is not None and now >= state.window_end:
        # The window has certainly reset: start counting afresh.
        state.epoch += 1
        state.count = 0
        state.window_end = None
        state.epoch_started = None
        state.next_slot = 0.0
    if state.epoch_started is None or state.count == 0:
        state.epoch_started = now
    if state.allowed is None:
        state.count += 1  # nothing known yet: the first answers will tell
        return 0.0, True
    remaining = state.allowed - policy.margin - state.count
    if remaining <= 0:
        if state.window_end is None:
            # Spent, yet no answer has said when this window ends: it started no earlier than
            # our first request in it and lasts what windows lasted so far (a 429 corrects us).
            length = state.window_seconds or UNKNOWN_WINDOW_WAIT
            state.window_end = max(now, (state.epoch_started or now) + length)
        return state.window_end - now + RESET_GUARD, False
    if state.window_end is None or remaining > policy.spread_fraction * state.allowed:
        state.count += 1
        return 0.0, True
    slot = max(now, state.next_slot)
    if slot >= state.window_end:
        return state.window_end - now + RESET_GUARD, False
    state.next_slot = slot + (state.window_end - slot) / remaining
    state.count += 1
    return slot - now, True


def apply(state: PacingState, epoch: int, snap: RateLimitSnapshot) -> None:
    """Fold one answer into the state."""
    if snap.allowed:
        state.allowed = snap.allowed
    if snap.status == 429:
        # Authoritative whatever the epoch: the server's window is full for the wait it asked
        # (worked out once, by ``retry_after_seconds``, when the snapshot was read).
        state.rate_limited += 1
        if snap.retry_after is not None:
            state.window_end = max(state.window_end or 0.0, snap.received_at + snap.retry_after)
        state.count = max(state.count, state.allowed or snap.count or 0)
        return
    if epoch != state.epoch or snap.reset is None:
        return  # an answer from a window we have already left says nothing about this one
    # ``reset`` is whole seconds rounded up, and the server computed it before we received the
    # answer: received_at + reset is never earlier than the real end.
    end = snap.received_at + snap.reset
    state.window_seconds = max(state.window_seconds or 0.0, snap.reset)
    if state.window_end is None or end < state.window_end:
        state.window_end = end
    if snap.count is not None:
        state.count = max(state.count, snap.count)


class StatePacer:
    """The pacing loop over a ``PacingState`` kept somewhere; subclasses say where (``_locked``)."""

    def __init__(
        self,
        *,
        policy: PacingPolicy | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy or PacingPolicy()
        self.clock = clock
        self.sleep = sleep

    @contextmanager
    def _locked(self, bucket: str) -> Iterator[PacingState]:
        """Yield the bucket's state under a lock; changes are saved on exit."""
        raise NotImplementedError
        yield PacingState()  # pragma: no cover

    def acquire(self, bucket: str) -> int:
        """Block until a request may be sent; returns the epoch it was counted in."""
        while True:
            with self._locked(bucket) as state:
                wait, booked = decide(state, self.clock(), self.policy)
                epoch = state.epoch
            if wait > 0:
                self.sleep(wait)
            if booked:
                return epoch

    def observe(self, bucket: str, epoch: int, snapshot: RateLimitSnapshot) -> None:
        """Record what an answer said about the quota."""
        if snapshot.allowed is None and snapshot.status != 429:
            return  # no quota headers (the token endpoint, a proxy page): nothing to learn
        with self._locked(bucket) as state:
            apply(state, epoch, snapshot)

    def state(self, bucket: str) -> PacingState:
        """A copy of a bucket's state (tests, reports)."""
        with self._locked(bucket) as state:
            return PacingState(**state.to_dict())


class InProcessPacer(StatePacer):
    """Pacing shared by the threads of one process."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._lock = threading.Lock()
        self._states: dict[str, PacingState] = {}

    @contextmanager
    def _locked(self, bucket: str) -> Iterator[PacingState]:
        with self._lock:
            if bucket not in self._states and len(self._states) >= 16:
                # One bucket per token: forget the oldest (long replaced) tokens.
                del self._states[next(iter(self._states))]
            yield self._states.setdefault(bucket, PacingState())
