"""The client against the sandbox over real HTTP: auth, expiry, faults, writes and pacing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from integrations.genesys import (
    BadClientCredentialsError,
    ConversationQuery,
    GenesysClient,
    OutcomeUnknownError,
    RetryPolicy,
    ServerError,
)

pytestmark = pytest.mark.integration


class NoPacing:
    """A pacer that lets everything through, to provoke 429s on purpose."""

    def acquire(self, bucket: str) -> int:
        return 0

    def observe(self, bucket: str, epoch: int, snapshot: Any) -> None:
        pass


def make(sandbox: Any, **kwargs: Any) -> GenesysClient:
    kwargs.setdefault("timeout", (2.0, 5.0))
    return GenesysClient(client_id=sandbox.client_id, client_secret=sandbox.client_secret,
                         api_url=sandbox.url, login_url=sandbox.login_url, **kwargs)  # fmt: skip


def api_log(sandbox: Any) -> list[dict[str, Any]]:
    return [r for r in sandbox.requests() if r["path"].startswith("/api/")]


@pytest.fixture
def acw(sandbox: Any) -> Iterator[tuple[str, str, list[str]]]:
    """A conversation whose one agent leg is in ACW: (conversation id, participant id, queue code ids).

    Ended afterwards, so no ACW timer of ours fires in another test sharing the sandbox.
    """
    queue = sandbox.org()["queues"][0]
    conv = sandbox.create_conversation(queueId=queue["id"], state="acw")
    agent = next(p for p in conv["participants"] if p["purpose"] == "agent")
    yield conv["id"], agent["id"], queue["codeIds"]
    sandbox.reset()
    sandbox.advance(conv["id"], to="ended")


def test_auth_and_token_info(sandbox: Any) -> None:
    client = make(sandbox)
    info = client.token_info()
    assert info.organization_name == sandbox.org()["organization"]["name"] and info.scopes
    assert [r["path"] for r in api_log(sandbox)] == ["/api/v2/tokens/me"]
    assert sandbox.stats()["tokens_issued"] == 1


def test_wrong_secret_is_a_configuration_error(sandbox: Any) -> None:
    client = GenesysClient(client_id=sandbox.client_id, client_secret="wrong-secret", api_url=sandbox.url, login_url=sandbox.login_url)
    with pytest.raises(BadClientCredentialsError) as caught:
        client.token_info()
    assert "wrong-secret" not in str(caught.value)
    assert api_log(sandbox) == [] and client.stats.token_requests == 1  # not retried


def test_token_renewed_before_expiry(sandbox: Any) -> None:
    sandbox.configure(token_lifetime_seconds=2)
    client = make(sandbox)
    client.token_info()
    time.sleep(1.9)  # past 90 % of the lifetime, before the end
    client.token_info()
    assert sandbox.stats()["tokens_issued"] == 2 and client.stats.reauthentications == 0
    assert all(r["status"] == 200 for r in api_log(sandbox))


def test_expired_token_gets_one_reauthentication(sandbox: Any) -> None:
    sandbox.configure(token_lifetime_seconds=1)
    frozen = time.time()
    client = make(sandbox, clock=lambda: frozen)  # the client never notices the expiry by itself
    client.token_info()
    time.sleep(1.1)
    client.token_info()
    assert client.stats.reauthentications == 1 and sandbox.stats()["tokens_issued"] == 2
    assert [r["status"] for r in api_log(sandbox)] == [200, 401, 200]


def test_catalogue_is_complete_under_5xx_faults(sandbox: Any) -> None:
    org = sandbox.org()
    sandbox.configure(error_rate=0.3)
    client = make(sandbox, retry=RetryPolicy(max_attempts=8, backoff_base=0.01, backoff_cap=0.05))
    codes = list(client.iter_wrapup_codes(page_size=7))
    queues = list(client.iter_queues(page_size=3))
    views = list(client.iter_wrapup_code_division_views(page_size=10))
    assert {c.id for c in codes} == {c["id"] for c in org["codes"] if not c["deleted"]}
    assert {v.id for v in views} == {c["id"] for c in org["codes"]}
    assert {q.id for q in queues} == {q["id"] for q in org["queues"]}
    first = org["queues"][0]
    assert {c.id for c in client.iter_queue_wrapup_codes(first["id"], page_size=4)} == set(first["codeIds"])
    assert sandbox.stats()["injected_errors"] > 0 and client.stats.retries == sandbox.stats()["injected_errors"]


def test_429_is_waited_out_when_not_paced(sandbox: Any) -> None:
    sandbox.configure(rate_limit=5, rate_window_seconds=1)
    client = make(sandbox, pacer=NoPacing())
    started = time.monotonic()
    for _ in range(8):
        client.token_info()
    assert client.stats.rate_limited >= 1 and sandbox.stats()["rate_limited"] == client.stats.rate_limited
    assert time.monotonic() - started >= 0.9  # Retry-After was honoured


def test_write_applies_and_reads_back(sandbox: Any, acw: tuple[str, str, list[str]]) -> None:
    cid, pid, code_ids = acw
    client = make(sandbox)
    offered = client.get_participant_wrapup_codes(cid, pid)
    assert {c.id for c in offered} <= set(code_ids) and offered
    assert client.get_participant_wrapup(cid, pid) is None
    assert client.get_conversation(cid).participant(pid).in_acw_without_code  # type: ignore[union-attr]
    client.set_participant_wrapup(cid, pid, code_id=offered[0].id, notes="Set by Wrap-up Portal")
    wrapup = client.get_participant_wrapup(cid, pid)
    assert wrapup is not None and wrapup.code == offered[0].id
    patches = [r for r in api_log(sandbox) if r["method"] == "PATCH"]
    assert len(patches) == 1 and sum(sandbox.stats()["writes"].values()) == 1


def test_failed_write_is_not_resent(sandbox: Any, acw: tuple[str, str, list[str]]) -> None:
    cid, pid, _ = acw
    client = make(sandbox)
    code = client.get_participant_wrapup_codes(cid, pid)[0].id
    sandbox.configure(error_rate=1.0)
    with pytest.raises(ServerError):
        client.set_participant_wrapup(cid, pid, code_id=code)
    sandbox.configure(error_rate=0.0)
    assert [r["method"] for r in api_log(sandbox)].count("PATCH") == 1  # a 5xx may have applied it: not re-sent
    assert client.get_participant_wrapup(cid, pid) is None and sandbox.stats()["writes"] == {}


def test_rate_limited_write_is_waited_out_and_applied_once(sandbox: Any, acw: tuple[str, str, list[str]]) -> None:
    cid, pid, _ = acw
    unpaced = make(sandbox, pacer=NoPacing())  # the pacer would hold the PATCH back; we want it to meet the 429
    code = unpaced.get_participant_wrapup_codes(cid, pid)[0].id  # its token's bucket now holds one request…
    sandbox.configure(rate_limit=1, rate_window_seconds=2)  # …which is the whole quota for 2 s
    started = time.monotonic()
    unpaced.set_participant_wrapup(cid, pid, code_id=code)
    elapsed = time.monotonic() - started
    patches = [r["status"] for r in api_log(sandbox) if r["method"] == "PATCH"]
    assert patches == [429, 202] and unpaced.stats.rate_limited == 1
    assert elapsed >= 1.0  # it waited the Retry-After (whole seconds until the window resets)
    assert sandbox.stats()["writes"] == {f"{cid}/{pid}": 1}  # applied exactly once
    sandbox.configure(rate_limit=300)
    wrapup = make(sandbox).get_participant_wrapup(cid, pid)
    assert wrapup is not None and wrapup.code == code


def test_dropped_write_is_outcome_unknown(sandbox: Any, acw: tuple[str, str, list[str]]) -> None:
    cid, pid, _ = acw
    client = make(sandbox)
    code = client.get_participant_wrapup_codes(cid, pid)[0].id
    sandbox.configure(drop_rate=1.0)
    with pytest.raises(OutcomeUnknownError):
        client.set_participant_wrapup(cid, pid, code_id=code)
    sandbox.configure(drop_rate=0.0)
    assert [r["method"] for r in api_log(sandbox)].count("PATCH") == 1


def test_write_timeout_is_outcome_unknown_and_may_have_applied(sandbox: Any, acw: tuple[str, str, list[str]]) -> None:
    cid, pid, _ = acw
    client = make(sandbox, timeout=(1.0, 0.3))
    code = client.get_participant_wrapup_codes(cid, pid)[0].id
    sandbox.configure(latency_ms=600)
    with pytest.raises(OutcomeUnknownError):
        client.set_participant_wrapup(cid, pid, code_id=code)
    sandbox.configure(latency_ms=0)
    time.sleep(0.4)  # let the sandbox finish the write it was still working on
    wrapup = make(sandbox).get_participant_wrapup(cid, pid)
    assert wrapup is not None and wrapup.code == code  # why the caller must read back, never re-send blindly
    assert [r["method"] for r in api_log(sandbox)].count("PATCH") == 1


def test_analytics_paging_deduplicates(sandbox: Any) -> None:
    sandbox.configure(analytics_duplicate_rate=0.3)
    client = make(sandbox)
    query = ConversationQuery.last(timedelta(days=30), page_size=100)
    rows = list(client.iter_conversation_details(query))
    ids = [r.conversation_id for r in rows]
    assert len(ids) == len(set(ids)) and len(ids) > 100
    one = client.get_conversation_details(ids[0])
    assert one.conversation_id == ids[0]


@pytest.mark.slow
def test_pacing_300_calls_stay_under_a_small_quota(sandbox: Any) -> None:
    limit, window, calls, threads = 100, 2.0, 300, 4
    sandbox.configure(rate_limit=limit, rate_window_seconds=window)
    client = make(sandbox)
    client.token_info()  # the first answer tells the pacer about the quota
    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda _: client.organization(), range(calls - 1)))
    elapsed = time.monotonic() - started
    allowed = calls / limit * window  # the time the quota allows for 300 calls: 6 s
    print(f"pacing: {calls} calls in {elapsed:.2f} s (quota allows {allowed:.1f} s), 429s: {sandbox.stats()['rate_limited']}")
    assert sandbox.stats()["rate_limited"] <= 2 and client.stats.rate_limited <= 2
    assert elapsed <= allowed * 1.15, f"{elapsed:.2f} s for {calls} calls; the quota allows {allowed:.1f} s"
    assert elapsed >= allowed - window - 0.1  # it really waited for the windows to reset
