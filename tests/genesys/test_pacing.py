"""The pacer's decisions, on a fake clock: burst, spread, hold until reset, 429, stale answers; the 429 wait."""

from __future__ import annotations

import threading
from email.utils import formatdate

import pytest
from requests.structures import CaseInsensitiveDict

from integrations.genesys import InProcessPacer, PacingPolicy, PacingState, RateLimitSnapshot
from integrations.genesys.pacing import apply, decide, retry_after_seconds

from .fakes import FakeClock

POLICY = PacingPolicy(margin=0, spread_fraction=0.2)


def snap(count: int, reset: float, at: float, *, allowed: int = 10, status: int = 200, retry_after: float | None = None) -> RateLimitSnapshot:
    return RateLimitSnapshot(status, allowed, count, reset, retry_after, sent_at=at, received_at=at)


def test_unknown_quota_lets_requests_through() -> None:
    state = PacingState()
    assert decide(state, 0.0, POLICY) == (0.0, True)


def test_burst_then_spread_then_hold_until_reset() -> None:
    state = PacingState()
    apply(state, 0, snap(1, 10, at=0.0))  # window ends at 10
    state.count = 1
    waits = []
    now = 0.0
    for _ in range(9):
        wait, booked = decide(state, now, POLICY)
        assert booked
        waits.append(wait)
        now += wait
    assert waits[:7] == [0.0] * 7  # 8 of 10 spent at once
    assert waits[7] == 0.0 and 4.0 < waits[8] <= 5.0  # the last two share the time left
    wait, booked = decide(state, now, POLICY)
    assert not booked and abs(now + wait - 10.02) < 1e-9  # spent: hold until the reset
    wait, booked = decide(state, 10.03, POLICY)
    assert booked and wait == 0.0 and state.epoch == 1 and state.count == 1


def test_server_count_higher_than_ours_wins() -> None:
    state = PacingState()
    apply(state, 0, snap(10, 5, at=1.0))  # someone else spent the window
    wait, booked = decide(state, 1.0, POLICY)
    assert not booked and wait > 4.9


def test_answers_from_an_old_window_are_ignored() -> None:
    state = PacingState(epoch=3, allowed=10, count=2, window_end=20.0)
    apply(state, 2, snap(9, 1, at=15.0))
    assert (state.count, state.window_end) == (2, 20.0)


def test_429_holds_everyone_until_retry_after() -> None:
    state = PacingState(epoch=1, allowed=10, count=3, window_end=5.0)
    apply(state, 0, snap(11, 7, at=4.0, status=429, retry_after=7))
    assert state.window_end == 11.0 and state.count == 10 and state.rate_limited == 1
    wait, booked = decide(state, 4.0, POLICY)
    assert not booked and wait > 7


NOW = 1_750_000_000.0  # any wall-clock moment: an HTTP-date Retry-After is measured from it


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7", "inin-ratelimit-reset": "30"}, 7.0),  # Retry-After first
        ({"retry-after": "2.5"}, 2.5),  # header names are case-insensitive, seconds may be fractional
        ({"Retry-After": "0", "inin-ratelimit-reset": "30"}, 0.0),  # zero is an answer, not a missing header
        ({"Retry-After": formatdate(NOW + 42, usegmt=True), "inin-ratelimit-reset": "30"}, 42.0),  # an HTTP-date
        ({"Retry-After": formatdate(NOW - 60, usegmt=True)}, 0.0),  # a date already past: no wait
        ({"Retry-After": "soon", "inin-ratelimit-reset": "4"}, 4.0),  # unparseable: the reset header
        ({"Retry-After": "-1", "inin-ratelimit-reset": "4"}, 4.0),  # negative: not trusted
        ({"inin-ratelimit-reset": "9"}, 9.0),  # no Retry-After: the reset header
        ({"inin-ratelimit-reset": "nan"}, 3.0),  # nothing usable: the default, 3 s
        ({}, 3.0),
        ({"Retry-After": "600"}, 120.0),  # never more than the cap
        ({"inin-ratelimit-reset": "3600"}, 120.0),
    ],
)
def test_retry_after_seconds_precedence(headers: dict[str, str], expected: float) -> None:
    assert retry_after_seconds(CaseInsensitiveDict(headers), now=NOW) == pytest.approx(expected)


def test_retry_after_seconds_default_and_cap_are_the_callers() -> None:
    assert retry_after_seconds({}, now=NOW, default=1.5) == 1.5
    assert retry_after_seconds({"Retry-After": "600"}, now=NOW, cap=30.0) == 30.0
    assert retry_after_seconds({"Retry-After": "10"}, now=NOW, cap=30.0) == 10.0


def test_a_429_snapshot_holds_the_pacer_for_the_same_wait() -> None:
    headers = CaseInsensitiveDict({"inin-ratelimit-allowed": "10", "inin-ratelimit-count": "11", "inin-ratelimit-reset": "5"})
    snapshot = RateLimitSnapshot.from_headers(429, headers, sent_at=100.0, received_at=100.0)
    assert snapshot.retry_after == 5.0  # no Retry-After: the reset header, as retry_after_seconds says
    state = PacingState(allowed=10, count=3)
    apply(state, 0, snapshot)
    assert state.window_end == 105.0 and state.count == 10
    ok = RateLimitSnapshot.from_headers(200, {"Retry-After": "9"}, sent_at=100.0, received_at=100.0)
    assert ok.retry_after is None  # only a 429 asks for a wait


def test_spent_budget_without_a_known_end_waits_briefly() -> None:
    state = PacingState(allowed=2, count=2)
    wait, booked = decide(state, 0.0, POLICY)
    assert not booked and 0.9 < wait < 1.1


def test_threads_never_exceed_the_window_budget() -> None:
    clock = FakeClock(0.0)
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            clock.now = max(clock.now, clock.now + seconds)

    pacer = InProcessPacer(clock=clock, sleep=sleep, policy=PacingPolicy())
    pacer.observe("b", 0, snap(0, 10, at=0.0, allowed=20))
    sent: list[float] = []

    def worker() -> None:
        for _ in range(10):
            pacer.acquire("b")
            with lock:
                sent.append(clock.now)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sent) == 60
    for start in range(0, 40, 10):  # whatever 10-second window, at most 20 requests
        assert sum(1 for s in sent if start <= s < start + 10) <= 20
