"""Bounded memory: live and control-made conversations are forgotten ``history_hours`` after they end.

The seeded history and conversations still going are kept; the request log, the event log, the
pending webhook deliveries, tokens and quota windows are bounded too.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from integrations.genesys_sandbox import OrgSpec, SandboxConfig, SandboxServer
from integrations.genesys_sandbox import webhook as webhook_module
from integrations.genesys_sandbox.app import SandboxApp
from integrations.genesys_sandbox.auth import PRUNE_FLOOR, TokenStore
from integrations.genesys_sandbox.lifecycle import end_customer

from .helpers import agents, queue_with, sandbox_now, stamp

HOUR = 3600.0
LONG_TOKENS = 30 * 86400  # the tests move the clock by days: the token must outlive them


class Sandbox:
    """Control and API calls on one private server (an agent token reads: no OAuth host needed)."""

    def __init__(self, server: SandboxServer) -> None:
        self.url = server.url
        self.http = requests.Session()
        org = self.control("GET", "org")
        token = self.control("POST", "tokens", {"userId": org["agents"][0]["id"]})["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.org = org

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"{self.url}/__sandbox/{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    def clock(self, advance_seconds: float = 0) -> dict[str, Any]:
        return self.control("POST", "clock", {"advance_seconds": advance_seconds})

    def stats(self) -> dict[str, Any]:
        return self.control("GET", "stats")

    def conversation(self, conversation_id: str) -> requests.Response:
        return self.http.get(f"{self.url}/api/v2/conversations/{conversation_id}", timeout=10)

    def analytics_hits(self, conversation_id: str, days_back: float = 3) -> int:
        """How many conversations an analytics query for this id finds (0 or 1)."""
        now = sandbox_now(self)
        body = {"interval": f"{stamp(now - days_back * 86400)}/{stamp(now + 60)}",
                "conversationFilters": [{"type": "and", "predicates": [
                    {"dimension": "conversationId", "value": conversation_id}]}]}
        answer = self.http.post(f"{self.url}/api/v2/analytics/conversations/details/query", json=body, timeout=10)
        assert answer.status_code == 200, answer.text
        return len(answer.json().get("conversations", []))


def ended_live_id(sandbox: Sandbox, *, newest: bool) -> str:
    """A live conversation whose ACW event was emitted and which has ended: the oldest or newest one."""
    events = [e for e in sandbox.control("GET", "events") if e["topic"].endswith(".acw")]
    for event in reversed(events) if newest else events:
        cid = event["payload"]["conversationId"]
        if sandbox.conversation(cid).json().get("endTime"):
            return cid
    raise AssertionError("no ended live conversation yet")


@pytest.fixture
def live() -> Iterator[Sandbox]:
    server = SandboxServer(port=0, seed=11, speed=1.0, live=True, config=SandboxConfig(history_hours=1, token_lifetime_seconds=LONG_TOKENS),
                           org=OrgSpec(queues=8, codes=40, agents=30, days=2, conversations=60))
    server.start()
    yield Sandbox(server)
    server.stop()


@pytest.fixture
def quiet() -> Iterator[Sandbox]:
    server = SandboxServer(port=0, seed=12, live=False, config=SandboxConfig(token_lifetime_seconds=LONG_TOKENS),
                           org=OrgSpec(queues=8, codes=40, agents=30, days=3, conversations=30))
    server.start()
    yield Sandbox(server)
    server.stop()


@pytest.mark.integration
def test_live_traffic_stays_bounded_and_old_conversations_are_forgotten(live):
    now = sandbox_now(live)
    seeded = live.http.post(f"{live.url}/api/v2/analytics/conversations/details/query", json={
        "interval": f"{stamp(now - 2 * 86400)}/{stamp(now - 86400)}", "paging": {"pageSize": 1}}).json()
    seeded_id = seeded["conversations"][0]["conversationId"]
    live.clock(advance_seconds=HOUR / 2)
    old_id = ended_live_id(live, newest=False)
    assert live.conversation(old_id).status_code == 200 and live.analytics_hits(old_id) == 1

    counts = []
    for _ in range(16):  # 8 simulated hours of traffic, eight times the retention
        live.clock(advance_seconds=HOUR / 2)
        counts.append(live.stats()["conversations"])
    stats = live.stats()
    added = stats["conversations"] + stats["conversations_evicted"]
    assert stats["conversations_evicted"] > 0.6 * added  # ~1.5 h of 8 h is kept
    assert max(counts[8:]) < 1.5 * min(counts[4:8])  # a plateau, not a slope

    gone = live.conversation(old_id)
    assert gone.status_code == 404 and gone.json()["code"] == "not.found"
    assert live.http.get(f"{live.url}/api/v2/analytics/conversations/{old_id}/details").status_code == 404
    assert live.analytics_hits(old_id) == 0

    recent = ended_live_id(live, newest=True)  # ended minutes ago
    assert live.conversation(recent).status_code == 200 and live.analytics_hits(recent) == 1
    assert live.conversation(seeded_id).status_code == 200  # the seeded history is kept
    assert live.analytics_hits(seeded_id) == 1


@pytest.mark.integration
def test_active_conversations_are_kept_and_ended_ones_go_after_the_retention(quiet):
    seeded = quiet.stats()["conversations"]
    mandatory = queue_with(quiet.org, "MANDATORY")  # no timer: its ACW lasts until someone writes
    ended = quiet.control("POST", "conversations", {"queueId": mandatory["id"], "state": "ended"})
    in_acw = quiet.control("POST", "conversations", {"queueId": mandatory["id"], "state": "acw"})
    in_survey = quiet.control("POST", "conversations", {"state": "wrapped"})  # ACW over, conversation active
    leg = agents(ended)[0]
    refused = quiet.http.patch(f"{quiet.url}/api/v2/conversations/{ended['id']}/participants/{leg['id']}",
                               json={"wrapup": {"code": mandatory["codeIds"][0]}})
    assert refused.status_code == 403  # too late in acw_only: counted per participant
    key = f"{ended['id']}/{leg['id']}"
    assert key in quiet.stats()["writes_refused"]

    quiet.clock(advance_seconds=23 * HOUR)
    assert quiet.conversation(ended["id"]).status_code == 200  # within the default 24 hours
    quiet.clock(advance_seconds=2 * HOUR)
    assert quiet.conversation(ended["id"]).status_code == 404
    for conv in (in_acw, in_survey):
        assert quiet.conversation(conv["id"]).status_code == 200
        assert quiet.analytics_hits(conv["id"], days_back=4) == 1
    stats = quiet.stats()
    assert stats["conversations"] == seeded + 2 and stats["conversations_evicted"] == 1
    assert key not in stats["writes_refused"]  # its counts went with it


@pytest.mark.integration
def test_history_hours_zero_keeps_everything_and_bad_values_are_refused(quiet):
    assert quiet.control("GET", "config")["history_hours"] == 24
    quiet.control("POST", "config", {"history_hours": 0})
    ended = quiet.control("POST", "conversations", {"state": "ended"})
    quiet.clock(advance_seconds=48 * HOUR)
    assert quiet.conversation(ended["id"]).status_code == 200
    assert quiet.stats()["conversations_evicted"] == 0
    for bad in (-1, "soon", True):
        answer = requests.post(f"{quiet.url}/__sandbox/config", json={"history_hours": bad}, timeout=10)
        assert answer.status_code == 400, bad
    quiet.control("POST", "config", {"history_hours": 1})  # applies at the next sweep
    quiet.clock(advance_seconds=600)
    assert quiet.conversation(ended["id"]).status_code == 404


def test_eviction_keeps_both_indexes_consistent():
    app = SandboxApp(seed=5, live=False, org=OrgSpec(conversations=40))
    store, factory, rng = app.store, app.factory, random.Random(5)
    now = app.clock.now()
    queue = next(iter(store.org.queues.values()))
    seeded = {conv.id for conv in store.started_between(0, now + 1)}
    made = []
    for _ in range(300):  # some back-dated into the seeded history's days
        conv = factory.new_conversation(now - rng.uniform(0, 3 * 86400), queue, origin="control")
        if rng.random() < 0.8:
            end_customer(conv, conv.start + rng.uniform(60, 4 * 3600))  # no legs: over when the customer leaves
        store.add(conv)
        made.append(conv)
    cutoff = now - 86400
    gone = store.evict_ended_before(cutoff)
    expected_gone = {c.id for c in made if c.end is not None and c.end < cutoff}
    assert gone == len(expected_gone) > 50
    remaining = list(store.started_between(0, now + 1))
    assert [c.start for c in remaining] == sorted(c.start for c in remaining)
    assert {c.id for c in remaining} == (seeded | {c.id for c in made}) - expected_gone
    assert store.count() == len(remaining) and all(store.get(cid) is None for cid in expected_gone)
    assert store.evict_ended_before(cutoff) == 0  # nothing left to do


def test_pending_webhook_deliveries_are_bounded(monkeypatch):
    monkeypatch.setattr(webhook_module, "MAX_PENDING", 3)
    app = SandboxApp(seed=5, live=False, org=OrgSpec(conversations=0))
    app.config.webhook_url = "http://127.0.0.1:9/never-read"  # the delivery thread is not started
    for n in range(5):
        app.webhook.submit("acw", {"conversationId": f"c{n}", "eventTime": 0})
    entries = app.webhook.events()
    assert [e["delivered"] for e in entries] == [None, None, None, False, False]
    assert app.telemetry.snapshot()["webhooks_failed"] == 2


def test_expired_tokens_are_dropped_once_there_are_many():
    tokens = TokenStore()
    old = [tokens.issue("client", 0.0, 10).value for _ in range(PRUNE_FLOOR - 1)]
    fresh = tokens.issue("client", 100.0, 10)  # the floor is reached: the expired ones go
    assert tokens.lookup(old[0]) is None and tokens.lookup(fresh.value) is fresh
