"""The sandbox's two notions of time.

``wall()`` drives platform concerns (token expiry, rate-limit windows): real time plus any
offset added through the control endpoint, so a client that waits ``Retry-After`` really
gets a fresh window. ``now()`` drives the simulated contact centre: it follows real time
when the simulator is live, and stands still otherwise so that tests are deterministic and
move it only with ``POST /__sandbox/clock``.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone


class Clock:
    """Thread-safe simulator clock with a manual offset."""

    def __init__(self, *, live: bool, start: float | None = None) -> None:
        self.live = live
        # Whole seconds keep generated timestamps readable.
        self._base = float(int(start if start is not None else time.time()))
        self._real_base = time.time()
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        """Simulated epoch seconds."""
        with self._lock:
            elapsed = (time.time() - self._real_base) if self.live else 0.0
            return self._base + elapsed + self._offset

    def wall(self) -> float:
        """Real epoch seconds plus the manual offset."""
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move both clocks forward; returns the new simulated time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.now()

    @property
    def offset(self) -> float:
        """Seconds added by ``advance`` so far."""
        with self._lock:
            return self._offset


def iso(ts: float | None) -> str | None:
    """Epoch seconds → ISO-8601 UTC with milliseconds and ``Z``, as Genesys writes times."""
    if ts is None:
        return None
    dt = datetime.fromtimestamp(ts, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> float:
    """ISO-8601 (``Z`` or offset, optional fraction) → epoch seconds; ``ValueError`` if malformed."""
    value = text.strip()
    if value.endswith("Z") or value.endswith("z"):
        value = value[:-1] + "+00:00"
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()
