"""The state machine (through the control endpoint), the seeded organisation, the live simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from integrations.genesys_sandbox import OrgSpec, SandboxServer

from .helpers import TIMEOUT_CODE, agents, customer, queue_with

pytestmark = pytest.mark.integration


def test_connected_to_acw_to_wrapped(sandbox):
    queue = queue_with(sandbox.org(), "MANDATORY")
    conv = sandbox.create_conversation(queueId=queue["id"], state="connected")
    agent = agents(conv)[0]
    assert agent["calls"][0]["state"] == "connected" and "startAcwTime" not in agent
    conv = sandbox.advance(conv["id"])
    agent = agents(conv)[0]
    assert agent["calls"][0]["state"] == "disconnected" and agent["startAcwTime"] and "wrapup" not in agent
    assert customer(conv)["endTime"] and "endTime" not in conv  # the customer left; ACW keeps it going
    conv = sandbox.advance(conv["id"])
    agent = agents(conv)[0]
    assert agent["wrapup"]["code"] == queue["codeIds"][0] and agent["endAcwTime"] and conv["endTime"]


def test_mandatory_acw_has_no_timer(sandbox):
    queue = queue_with(sandbox.org(), "MANDATORY")
    conv = sandbox.create_conversation(queueId=queue["id"], state="acw")
    sandbox.clock(advance_seconds=3600)
    agent = agents(sandbox.api("GET", f"/api/v2/conversations/{conv['id']}").json())[0]
    assert "endAcwTime" not in agent and "wrapupTimeoutMs" not in agent


@pytest.mark.parametrize("prompt", ["MANDATORY_TIMEOUT", "AGENT_REQUESTED", "MANDATORY_FORCED_TIMEOUT"])
def test_timed_acw_ends_in_the_timeout_code(sandbox, prompt):
    queue = queue_with(sandbox.org(), prompt)
    conv = sandbox.create_conversation(queueId=queue["id"], state="acw")
    sandbox.clock(advance_seconds=queue["timeoutMs"] / 1000 - 1)
    path = f"/api/v2/conversations/{conv['id']}"
    assert "endAcwTime" not in agents(sandbox.api("GET", path).json())[0]
    sandbox.clock(advance_seconds=1)
    got = sandbox.api("GET", path).json()
    agent = agents(got)[0]
    assert agent["wrapup"]["code"] == TIMEOUT_CODE and agent["endAcwTime"] and got["endTime"]
    assert agent["wrapup"]["durationSeconds"] == queue["timeoutMs"] // 1000
    acw = [e for e in sandbox.events() if e["topic"].endswith(".acw") and e["payload"]["conversationId"] == conv["id"]]
    assert [e["payload"]["wrapupCode"] for e in acw] == [TIMEOUT_CODE]


def test_optional_skip_and_forced_end(sandbox):
    queue = queue_with(sandbox.org(), "OPTIONAL")
    conv = sandbox.create_conversation(queueId=queue["id"], state="acw")
    agent = agents(sandbox.advance(conv["id"], to="skip"))[0]
    assert agent["wrapupSkipped"] is True and "wrapup" not in agent
    assert agent["calls"][0]["afterCallWork"]["state"] == "skipped"
    other = sandbox.create_conversation(state="connected")
    ended = sandbox.advance(other["id"], to="ended")
    assert ended["endTime"] and agents(ended)[0]["wrapup"]["code"] == TIMEOUT_CODE


def test_wrapped_conversation_stays_active_until_ended(sandbox):
    conv = sandbox.create_conversation(state="wrapped")
    assert "endTime" not in conv and "endTime" not in customer(conv)
    assert "endTime" not in sandbox.advance(conv["id"])  # nothing left to move: still in the survey
    assert sandbox.advance(conv["id"], to="ended")["endTime"]


def test_advance_one_leg_of_a_transfer(sandbox):
    conv = sandbox.create_conversation(agents=2, state="connected")
    first, second = agents(conv)
    moved = sandbox.advance(conv["id"], participantId=first["id"], to="acw")
    states = [a["calls"][0]["state"] for a in agents(moved)]
    assert states == ["disconnected", "connected"] and "endTime" not in customer(moved)
    done = sandbox.advance(conv["id"], participantId=second["id"], to="wrapped")
    assert customer(done)["endTime"] and [bool(a.get("startAcwTime")) for a in agents(done)] == [True, True]


def test_control_errors(sandbox):
    conv = sandbox.create_conversation(state="connected")
    for bad in ({"to": "flying"}, {"participantId": "nope"}):
        response = requests.post(f"{sandbox.url}/__sandbox/conversations/{conv['id']}/advance", json=bad)
        assert response.status_code in (400, 404), bad
    assert requests.post(f"{sandbox.url}/__sandbox/conversations/nope/advance", json={}).status_code == 404
    for bad in ({"state": "asleep"}, {"queueId": "nope"}, {"agents": 9}, {"mediaType": "fax"}):
        assert requests.post(f"{sandbox.url}/__sandbox/conversations", json=bad).status_code == 400, bad
    assert requests.post(f"{sandbox.url}/__sandbox/clock", json={"advance_seconds": -1}).status_code == 400


def test_active_legs_listing(sandbox):
    conv = sandbox.create_conversation(state="acw")
    legs = requests.get(f"{sandbox.url}/__sandbox/conversations?state=acw").json()
    assert any(l["conversationId"] == conv["id"] and l["state"] == "acw" for l in legs)


def test_seeded_org_is_deterministic_and_big_enough(sandbox_server):
    org = requests.get(f"{sandbox_server.url}/__sandbox/org").json()
    assert len(org["queues"]) >= 8 and len(org["codes"]) >= 40 and len(org["agents"]) >= 30
    assert len(org["divisions"]) >= 2
    with SandboxServer(port=0, seed=4242, live=False, org=OrgSpec(conversations=10)) as twin:
        again = requests.get(f"{twin.url}/__sandbox/org").json()
    assert again == org
    with SandboxServer(port=0, seed=7, live=False, org=OrgSpec(conversations=10)) as other:
        assert requests.get(f"{other.url}/__sandbox/org").json()["queues"][0]["id"] != org["queues"][0]["id"]


@pytest.fixture
def live_sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer(port=0, seed=3, speed=4.0, live=True,
                           org=OrgSpec(queues=8, codes=40, agents=30, days=1, conversations=50))
    server.start()
    yield server
    server.stop()


def test_live_simulator_keeps_people_in_acw_and_moves_them_on(live_sandbox):
    url = live_sandbox.url
    in_acw = requests.get(f"{url}/__sandbox/conversations?state=acw").json()
    assert in_acw  # the warm-up already put agents in ACW
    before = requests.get(f"{url}/__sandbox/stats").json()["conversations"]
    requests.post(f"{url}/__sandbox/clock", json={"advance_seconds": 900})
    after = requests.get(f"{url}/__sandbox/stats").json()["conversations"]
    assert after > before + 10  # arrivals kept coming
    events = requests.get(f"{url}/__sandbox/events").json()
    kinds = {e["topic"].rsplit(".", 1)[-1] for e in events}
    assert kinds == {"end", "acw"}
    codes = {e["payload"].get("wrapupCode") for e in events if e["topic"].endswith(".acw")}
    assert TIMEOUT_CODE in codes and len(codes - {TIMEOUT_CODE, None}) > 3  # timeouts and agents' own codes
    token = requests.post(f"{live_sandbox.login_url}/oauth/token", auth=("wrapup-portal-demo", "wrapup-portal-demo-secret"),
                          data={"grant_type": "client_credentials"}).json()["access_token"]
    first = in_acw[0]
    conv = requests.get(f"{url}/api/v2/conversations/{first['conversationId']}",
                        headers={"Authorization": f"Bearer {token}"}).json()
    leg = next(p for p in conv["participants"] if p["id"] == first["participantId"])
    assert leg.get("endAcwTime") or leg.get("wrapup")  # 15 minutes later its ACW is over
