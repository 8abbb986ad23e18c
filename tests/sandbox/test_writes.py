"""Wrap-up writes: PATCH and per-media POST, every refusal, every switch of reference §4."""

from __future__ import annotations

import pytest

from .helpers import agents, assert_error, customer, queue_with

pytestmark = pytest.mark.integration


def patch(sandbox, conv, pid, body, token=None):
    return sandbox.api("PATCH", f"/api/v2/conversations/{conv['id']}/participants/{pid}", json=body, token=token)


def read_agent(sandbox, conv, index=0):
    return agents(sandbox.api("GET", f"/api/v2/conversations/{conv['id']}").json())[index]


def make(sandbox, state="acw", prompt="MANDATORY_TIMEOUT", **kw):
    queue = queue_with(sandbox.org(), prompt)
    conv = sandbox.create_conversation(queueId=queue["id"], state=state, **kw)
    return queue, conv, agents(conv)[0]["id"]


def test_patch_in_acw_is_accepted_and_ends_acw(sandbox):
    queue, conv, pid = make(sandbox)
    code = queue["codeIds"][2]
    response = patch(sandbox, conv, pid, {"wrapup": {"code": code, "notes": "Set by Wrap-up Portal"}})
    assert response.status_code == 202 and response.content == b""
    assert response.headers["ININ-Correlation-Id"]
    agent = read_agent(sandbox, conv)
    assert agent["wrapup"]["code"] == code and agent["wrapup"]["notes"] == "Set by Wrap-up Portal"
    assert agent["endAcwTime"]
    assert sandbox.stats()["writes"] == {f"{conv['id']}/{pid}": 1}
    events = [e["topic"].rsplit(".", 1)[-1] for e in sandbox.events() if e["payload"]["conversationId"] == conv["id"]]
    assert events == ["end", "acw"]  # user.end at ACW start, acw when it ended


def test_per_media_post_is_accepted(sandbox):
    queue, conv, pid = make(sandbox)
    comm = agents(conv)[0]["calls"][0]["id"]
    path = f"/api/v2/conversations/calls/{conv['id']}/participants/{pid}/communications/{comm}/wrapup"
    response = sandbox.api("POST", path, json={"code": queue["codeIds"][0], "notes": "n"})
    assert response.status_code == 202
    assert read_agent(sandbox, conv)["wrapup"]["code"] == queue["codeIds"][0]


def test_per_media_post_refuses_wrong_media_and_wrong_communication(sandbox):
    queue, conv, pid = make(sandbox)
    comm = agents(conv)[0]["calls"][0]["id"]
    body = {"code": queue["codeIds"][0]}
    base = f"/api/v2/conversations/%s/{conv['id']}/participants/{pid}/communications/%s/wrapup"
    assert_error(sandbox.api("POST", base % ("emails", comm), json=body), 404, "not.found")
    assert_error(sandbox.api("POST", base % ("calls", "nope"), json=body), 404, "not.found")
    assert "wrapup" not in read_agent(sandbox, conv)


def test_other_properties_are_refused_with_the_real_403(sandbox):
    queue, conv, pid = make(sandbox)
    body = assert_error(patch(sandbox, conv, pid, {"wrapup": {"code": queue["codeIds"][0]}, "state": "disconnected"}),
                        403, "not.authorized")
    assert body["message"] == f"Access to Conversation {conv['id']} is forbidden."
    assert body["messageWithParams"] == "Access to {type} {id} is forbidden."
    assert body["messageParams"] == {"id": conv["id"], "type": "Conversation"}
    assert "wrapup" not in read_agent(sandbox, conv)


@pytest.mark.parametrize("body", [{"wrapup": {"code": 5}}, {"wrapup": "x"}, {"nonsense": 1}, {}, [1]])
def test_malformed_bodies_are_400(sandbox, body):
    _, conv, pid = make(sandbox)
    assert_error(patch(sandbox, conv, pid, body), 400, "bad.request")


def test_code_not_offered_to_the_participant_is_400(sandbox):
    queue, conv, pid = make(sandbox)
    other = next(c["id"] for c in sandbox.org()["codes"] if c["id"] not in queue["codeIds"] and not c["deleted"])
    assert_error(patch(sandbox, conv, pid, {"wrapup": {"code": other}}), 400, "bad.request")
    assert_error(patch(sandbox, conv, pid, {"wrapup": {"code": "ININ-WRAP-UP-TIMEOUT"}}), 400, "bad.request")
    assert sandbox.stats()["writes_refused"] == {f"{conv['id']}/{pid}": 2}


def test_unknown_conversation_or_participant_is_404(sandbox):
    queue, conv, _ = make(sandbox)
    body = {"wrapup": {"code": queue["codeIds"][0]}}
    assert_error(patch(sandbox, {"id": "0ae82ce3-5c8e-4865-82d4-caa2a4e6a1de"}, "x", body), 404, "not.found")
    assert_error(patch(sandbox, conv, "7dd60e2f-7c6d-44b0-a894-0bd3b8840f46", body), 404, "not.found")


def test_non_agent_participant_is_refused(sandbox):
    queue, conv, _ = make(sandbox)
    assert_error(patch(sandbox, conv, customer(conv)["id"], {"wrapup": {"code": queue["codeIds"][0]}}),
                 403, "not.authorized")


def test_still_connected_is_refused_in_every_window(sandbox):
    queue, conv, pid = make(sandbox, state="connected")
    for window in ("acw_only", "until_conversation_end", "always"):
        sandbox.configure(write_window=window)
        assert_error(patch(sandbox, conv, pid, {"wrapup": {"code": queue["codeIds"][0]}}), 403, "not.authorized")
    assert "wrapup" not in read_agent(sandbox, conv)


def test_acw_only_refuses_after_acw(sandbox):
    queue, conv, pid = make(sandbox, state="wrapped", wrapupCode=None)
    before = read_agent(sandbox, conv)["wrapup"]["code"]
    assert_error(patch(sandbox, conv, pid, {"wrapup": {"code": queue["codeIds"][3]}}), 403, "not.authorized")
    assert read_agent(sandbox, conv)["wrapup"]["code"] == before


def test_until_conversation_end_accepts_while_the_conversation_lasts(sandbox):
    sandbox.configure(write_window="until_conversation_end")
    queue, conv, pid = make(sandbox, state="wrapped")
    assert patch(sandbox, conv, pid, {"wrapup": {"code": queue["codeIds"][3]}}).status_code == 202
    assert read_agent(sandbox, conv)["wrapup"]["code"] == queue["codeIds"][3]
    _, ended, ended_pid = make(sandbox, state="ended")
    assert_error(patch(sandbox, ended, ended_pid, {"wrapup": {"code": queue["codeIds"][3]}}), 403, "not.authorized")


def test_always_accepts_after_the_conversation_ended(sandbox):
    sandbox.configure(write_window="always")
    queue, conv, pid = make(sandbox, state="ended")
    assert patch(sandbox, conv, pid, {"wrapup": {"code": queue["codeIds"][4]}}).status_code == 202
    assert read_agent(sandbox, conv)["wrapup"]["code"] == queue["codeIds"][4]


@pytest.mark.parametrize("status,code", [(400, "bad.request"), (409, "conflict"), (403, "not.authorized")])
def test_refusal_switch_sets_the_status(sandbox, status, code):
    sandbox.configure(refusal=status)
    queue, conv, pid = make(sandbox, state="ended")
    assert_error(patch(sandbox, conv, pid, {"wrapup": {"code": queue["codeIds"][0]}}), status, code)


def test_silent_noop_answers_2xx_and_changes_nothing(sandbox):
    sandbox.configure(silent_noop=True)
    queue, conv, pid = make(sandbox)
    assert patch(sandbox, conv, pid, {"wrapup": {"code": queue["codeIds"][0]}}).status_code == 202
    agent = read_agent(sandbox, conv)
    assert "wrapup" not in agent and "endAcwTime" not in agent
    assert sandbox.stats()["writes"] == {f"{conv['id']}/{pid}": 1}


def test_app_token_refused_when_only_agents_may_write(sandbox):
    sandbox.configure(client_credentials_may_write=False)
    queue, conv, pid = make(sandbox)
    body = {"wrapup": {"code": queue["codeIds"][0]}}
    assert_error(patch(sandbox, conv, pid, body), 403, "not.authorized")
    other_agent = next(a for a in sandbox.org()["agents"] if a["id"] != agents(conv)[0]["userId"])
    assert_error(patch(sandbox, conv, pid, body, token=sandbox.agent_token(other_agent["id"])), 403, "not.authorized")
    own = sandbox.agent_token(agents(conv)[0]["userId"])
    assert patch(sandbox, conv, pid, body, token=own).status_code == 202
    assert read_agent(sandbox, conv)["wrapup"]["code"] == queue["codeIds"][0]


def test_forced_timeout_keeps_acw_until_the_timer_and_last_code_wins(sandbox):
    queue, conv, pid = make(sandbox, prompt="MANDATORY_FORCED_TIMEOUT")
    assert patch(sandbox, conv, pid, {"wrapup": {"code": queue["codeIds"][0]}}).status_code == 202
    assert "endAcwTime" not in read_agent(sandbox, conv)
    assert patch(sandbox, conv, pid, {"wrapup": {"code": queue["codeIds"][1]}}).status_code == 202
    sandbox.clock(advance_seconds=queue["timeoutMs"] / 1000 + 1)
    agent = read_agent(sandbox, conv)
    assert agent["endAcwTime"] and agent["wrapup"]["code"] == queue["codeIds"][1]
    final = [e for e in sandbox.events() if e["topic"].endswith(".acw") and e["payload"]["participantId"] == pid]
    assert [e["payload"]["wrapupCode"] for e in final] == [queue["codeIds"][1]]


def test_optional_prompt_accepts_a_write_without_code_as_a_skip(sandbox):
    _, conv, pid = make(sandbox, prompt="OPTIONAL")
    assert patch(sandbox, conv, pid, {"wrapup": {"notes": "nothing to code"}}).status_code == 202
    agent = read_agent(sandbox, conv)
    assert agent["wrapupSkipped"] is True and "wrapup" not in agent and agent["endAcwTime"]
    _, mandatory, mpid = make(sandbox, prompt="MANDATORY")
    assert_error(patch(sandbox, mandatory, mpid, {"wrapup": {"notes": "x"}}), 400, "bad.request")


def test_each_leg_of_a_transfer_takes_its_own_code(sandbox):
    queues = sandbox.org()["queues"]
    conv = sandbox.create_conversation(agents=2, queueIds=[queues[1]["id"], queues[6]["id"]], state="acw")
    first, second = agents(conv)
    assert patch(sandbox, conv, first["id"], {"wrapup": {"code": queues[1]["codeIds"][0]}}).status_code == 202
    assert_error(patch(sandbox, conv, second["id"], {"wrapup": {"code": queues[1]["codeIds"][-1]}}), 400, "bad.request") \
        if queues[1]["codeIds"][-1] not in queues[6]["codeIds"] else None
    assert patch(sandbox, conv, second["id"], {"wrapup": {"code": queues[6]["codeIds"][0]}}).status_code == 202
    got = agents(sandbox.api("GET", f"/api/v2/conversations/{conv['id']}").json())
    assert [a["wrapup"]["code"] for a in got] == [queues[1]["codeIds"][0], queues[6]["codeIds"][0]]
    assert sandbox.stats()["writes"] == {f"{conv['id']}/{first['id']}": 1, f"{conv['id']}/{second['id']}": 1}
