"""Reading conversations and participant wrap-up; the shape of a leg in ACW."""

from __future__ import annotations

import pytest

from .helpers import agents, assert_error, customer, queue_with

pytestmark = pytest.mark.integration


def test_conversation_in_acw_has_the_documented_fields(sandbox):
    org = sandbox.org()
    queue = queue_with(org, "MANDATORY_TIMEOUT")
    made = sandbox.create_conversation(queueId=queue["id"], state="acw")
    response = sandbox.api("GET", f"/api/v2/conversations/{made['id']}")
    assert response.status_code == 200 and response.json() == made
    conv = response.json()
    assert {"id", "startTime", "address", "participants", "divisions", "selfUri"} <= set(conv)
    assert "endTime" not in conv  # ACW keeps the conversation going
    assert conv["divisions"][0]["division"]["id"] == queue["divisionId"]
    assert {p["purpose"] for p in conv["participants"]} == {"customer", "acd", "agent"}
    (agent,) = agents(conv)
    assert "state" not in agent  # a participant has no state; communications do
    assert agent["wrapupRequired"] is True and agent["wrapupPrompt"] == "timeout"
    assert agent["wrapupTimeoutMs"] == queue["timeoutMs"]
    assert agent["startAcwTime"] and "endAcwTime" not in agent and "wrapup" not in agent
    assert agent["queueId"] == queue["id"] and agent["queueName"] == queue["name"] and agent["userId"]
    (call,) = agent["calls"]
    assert call["state"] == "disconnected" and call["afterCallWork"]["state"] == "pending"
    assert customer(conv)["calls"][0]["state"] == "disconnected"


def test_wrapped_leg_has_wrapup_and_end_acw_time(sandbox):
    queue = sandbox.org()["queues"][0]
    code = queue["codeIds"][1]
    conv = sandbox.create_conversation(queueId=queue["id"], state="ended", wrapupCode=code, notes="done")
    (agent,) = agents(conv)
    assert agent["wrapup"]["code"] == code and agent["wrapup"]["notes"] == "done"
    assert {"code", "name", "tags", "durationSeconds", "endTime", "provisional"} <= set(agent["wrapup"])
    assert agent["endAcwTime"] and conv["endTime"]
    assert agent["calls"][0]["afterCallWork"]["state"] == "complete"


@pytest.mark.parametrize("media,key", [("chat", "chats"), ("email", "emails"), ("message", "messages")])
def test_other_media_use_their_communication_lists(sandbox, media, key):
    conv = sandbox.create_conversation(mediaType=media, state="acw")
    (agent,) = agents(conv)
    assert agent[key][0]["state"] == "disconnected" and "calls" not in agent


def test_unknown_conversation_is_404(sandbox):
    body = assert_error(sandbox.api("GET", "/api/v2/conversations/0ae82ce3-5c8e-4865-82d4-caa2a4e6a1de"),
                        404, "not.found")
    assert body["message"] == "The requested resource was not found."


def test_participant_wrapupcodes_are_the_queue_codes(sandbox):
    queue = sandbox.org()["queues"][2]
    conv = sandbox.create_conversation(queueId=queue["id"], state="acw")
    pid = agents(conv)[0]["id"]
    response = sandbox.api("GET", f"/api/v2/conversations/{conv['id']}/participants/{pid}/wrapupcodes")
    assert response.status_code == 200
    assert [c["id"] for c in response.json()] == queue["codeIds"]
    cust = customer(conv)["id"]
    assert sandbox.api("GET", f"/api/v2/conversations/{conv['id']}/participants/{cust}/wrapupcodes").json() == []
    assert_error(sandbox.api("GET", f"/api/v2/conversations/{conv['id']}/participants/nope/wrapupcodes"),
                 404, "not.found")


def test_participant_wrapup_is_empty_until_saved(sandbox):
    queue = sandbox.org()["queues"][0]
    conv = sandbox.create_conversation(queueId=queue["id"], state="acw")
    pid = agents(conv)[0]["id"]
    path = f"/api/v2/conversations/{conv['id']}/participants/{pid}/wrapup"
    assert sandbox.api("GET", path).json() == {}
    sandbox.advance(conv["id"], to="wrapped", wrapupCode=queue["codeIds"][0])
    body = sandbox.api("GET", path + "?provisional=false").json()
    assert body["code"] == queue["codeIds"][0] and body["provisional"] is False


def test_per_media_read_twins_answer_only_for_their_media(sandbox):
    conv = sandbox.create_conversation(mediaType="voice", state="acw")
    assert sandbox.api("GET", f"/api/v2/conversations/calls/{conv['id']}").status_code == 200
    assert_error(sandbox.api("GET", f"/api/v2/conversations/emails/{conv['id']}"), 404, "not.found")


def test_two_agent_conversation_has_two_legs_each_with_its_own_queue(sandbox):
    queues = sandbox.org()["queues"]
    conv = sandbox.create_conversation(agents=2, queueIds=[queues[0]["id"], queues[1]["id"]], state="acw")
    first, second = agents(conv)
    assert first["id"] != second["id"] and first["userId"] != second["userId"]
    assert (first["queueId"], second["queueId"]) == (queues[0]["id"], queues[1]["id"])
    assert first["calls"][0]["disconnectType"] == "transfer"
