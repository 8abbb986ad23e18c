"""Analytics conversation details query: validation, filters, paging, ordering, delay, duplicates."""

from __future__ import annotations

import pytest

from .helpers import TIMEOUT_CODE, agents, assert_error, interval, queue_with, sandbox_now, stamp

pytestmark = pytest.mark.integration
QUERY = "/api/v2/analytics/conversations/details/query"


def query(sandbox, body, token=None):
    return sandbox.api("POST", QUERY, json=body, token=token)


def ids(body):
    return [c["conversationId"] for c in body.get("conversations", [])]


def agent_segments(conv):
    return [s for p in conv["participants"] if p["purpose"] == "agent" for x in p["sessions"] for s in x["segments"]]


def test_reference_example_query_returns_acw_legs_with_codes(sandbox):
    org = sandbox.org()
    queue = queue_with(org, "MANDATORY_TIMEOUT")
    made = sandbox.create_conversation(queueId=queue["id"], state="ended", wrapupCode=TIMEOUT_CODE)
    body = {"interval": interval(sandbox, 7), "order": "desc", "orderBy": "conversationStart",
            "paging": {"pageSize": 100, "pageNumber": 1},
            "conversationFilters": [{"type": "and", "predicates": [{"dimension": "conversationEnd", "operator": "exists"}]}],
            "segmentFilters": [
                {"type": "and", "predicates": [{"type": "dimension", "dimension": "purpose", "operator": "matches", "value": "agent"},
                                               {"dimension": "queueId", "value": queue["id"]}, {"dimension": "mediaType", "value": "voice"}]},
                {"type": "or", "predicates": [{"dimension": "wrapUpCode", "value": TIMEOUT_CODE},
                                              {"dimension": "wrapUpCode", "operator": "notExists"}]}]}
    response = query(sandbox, body)
    assert response.status_code == 200 and "inin-ratelimit-count" in response.headers
    result = response.json()
    assert set(result) == {"totalHits", "conversations"} and result["totalHits"] >= 1
    assert made["id"] in ids(result)
    conv = next(c for c in result["conversations"] if c["conversationId"] == made["id"])
    assert {"conversationId", "conversationStart", "conversationEnd", "originatingDirection", "divisionIds",
            "participants"} <= set(conv)
    agent = next(p for p in conv["participants"] if p["purpose"] == "agent")
    assert {"participantId", "participantName", "purpose", "userId", "sessions"} <= set(agent)
    session = agent["sessions"][0]
    assert {"sessionId", "mediaType", "direction", "ani", "dnis", "segments"} <= set(session)
    assert session["sessionId"] == agents(made)[0]["calls"][0]["id"]
    wrap = [s for s in session["segments"] if s["segmentType"] == "wrapup"]
    assert wrap[0]["wrapUpCode"] == TIMEOUT_CODE and wrap[0]["queueId"] == queue["id"]
    starts = [c["conversationStart"] for c in result["conversations"]]
    assert starts == sorted(starts, reverse=True)
    for found in result["conversations"]:  # every result really has a voice agent leg on that queue
        assert any(s.get("queueId") == queue["id"] for s in agent_segments(found))


@pytest.mark.parametrize("filters", [
    {"segmentFilters": [{"type": "and", "predicates": [{"dimension": "divisionId", "value": "x"}]}]},
    {"conversationFilters": [{"type": "and", "predicates": [{"dimension": "userId", "value": "x"}]}]},
    {"segmentFilters": [{"type": "and", "predicates": [{"dimension": "nonsense", "value": "x"}]}]},
    {"segmentFilters": [{"type": "xor", "predicates": [{"dimension": "userId", "value": "x"}]}]},
    {"segmentFilters": [{"type": "and", "predicates": [{"dimension": "userId", "operator": "like", "value": "x"}]}]},
    {"segmentFilters": [{"type": "and", "predicates": [{"dimension": "userId"}]}]},
    {"paging": {"pageSize": 101}},
    {"order": "sideways"},
    {"orderBy": "agentName"},
    {"unknownField": 1},
])
def test_invalid_queries_are_400(sandbox, filters):
    body = {"interval": interval(sandbox, 1), **filters}
    assert_error(query(sandbox, body), 400, "bad.request")


@pytest.mark.parametrize("value", [None, "yesterday", "2026-05-08T00:00:00Z/2026-05-01T00:00:00Z"])
def test_interval_is_required_and_checked(sandbox, value):
    body = {} if value is None else {"interval": value}
    assert_error(query(sandbox, body), 400, "bad.request")


def test_paging_totals_and_the_empty_page(sandbox):
    token = sandbox.token()
    body = {"interval": interval(sandbox, 30), "paging": {"pageSize": 50, "pageNumber": 1}}
    first = query(sandbox, body, token).json()
    total = first["totalHits"]
    assert total >= 1500 and len(first["conversations"]) == 50
    seen = set(ids(first))
    body["paging"]["pageNumber"] = 2
    second = query(sandbox, body, token).json()
    assert not seen & set(ids(second)) and second["totalHits"] == total
    body["paging"]["pageNumber"] = total // 50 + 2
    empty = query(sandbox, body, token).json()
    assert empty == {"totalHits": total}  # no "conversations" key on an empty page
    assert len(query(sandbox, {"interval": interval(sandbox, 30)}, token).json()["conversations"]) == 25


def test_order_asc_and_order_by_conversation_end(sandbox):
    token = sandbox.token()
    asc = query(sandbox, {"interval": interval(sandbox, 2), "order": "asc"}, token).json()["conversations"]
    starts = [c["conversationStart"] for c in asc]
    assert starts == sorted(starts)
    by_end = query(sandbox, {"interval": interval(sandbox, 2), "orderBy": "conversationEnd", "order": "desc",
                             "paging": {"pageSize": 100}}, token).json()["conversations"]
    ends = [c["conversationEnd"] for c in by_end if "conversationEnd" in c]
    assert ends == sorted(ends, reverse=True)


def test_conversation_end_not_exists_finds_conversations_in_progress(sandbox):
    live = sandbox.create_conversation(state="acw")
    body = {"interval": interval(sandbox, 1), "paging": {"pageSize": 100},
            "conversationFilters": [{"type": "and", "predicates": [{"dimension": "conversationEnd", "operator": "notExists"}]}]}
    result = query(sandbox, body).json()
    assert live["id"] in ids(result)
    assert all("conversationEnd" not in c for c in result["conversations"])
    wrap = [s for s in agent_segments(next(c for c in result["conversations"] if c["conversationId"] == live["id"]))
            if s["segmentType"] == "wrapup"]
    assert wrap and "segmentEnd" not in wrap[0] and "wrapUpCode" not in wrap[0]


@pytest.mark.parametrize("dimension,where", [("conversationId", "conversation"), ("divisionId", "conversation"),
                                             ("userId", "segment"), ("ani", "segment"), ("dnis", "segment"),
                                             ("direction", "segment"), ("mediaType", "segment")])
def test_each_dimension_filters(sandbox, dimension, where):
    made = sandbox.create_conversation(mediaType="email", direction="outbound", state="ended")
    agent = agents(made)[0]
    values = {"conversationId": made["id"], "divisionId": made["divisions"][0]["division"]["id"],
              "userId": agent["userId"], "ani": made["participants"][0]["ani"],
              "dnis": made["participants"][0]["dnis"], "direction": "outbound", "mediaType": "email"}
    key = "conversationFilters" if where == "conversation" else "segmentFilters"
    body = {"interval": interval(sandbox, 1), "paging": {"pageSize": 100},
            key: [{"type": "and", "predicates": [{"dimension": dimension, "value": values[dimension]}]}]}
    result = query(sandbox, body).json()
    assert made["id"] in ids(result)
    for conv in result["conversations"]:
        if dimension == "divisionId":
            assert values[dimension] in conv["divisionIds"]
        elif dimension == "conversationId":
            assert conv["conversationId"] == made["id"]
        else:
            rows = [{**s, **x} for p in conv["participants"] for s in p["sessions"] for x in s["segments"]]
            assert any(r.get(dimension) == values[dimension] or (dimension == "userId" and any(
                p.get("userId") == values[dimension] for p in conv["participants"])) for r in rows)


def test_wrap_up_code_filter_and_exists(sandbox):
    queue = sandbox.org()["queues"][0]
    code = queue["codeIds"][-1]
    made = sandbox.create_conversation(queueId=queue["id"], state="ended", wrapupCode=code)
    body = {"interval": interval(sandbox, 30), "paging": {"pageSize": 100},
            "segmentFilters": [{"type": "and", "predicates": [{"dimension": "wrapUpCode", "value": code}]}]}
    result = query(sandbox, body).json()
    assert made["id"] in ids(result)
    for conv in result["conversations"]:
        assert code in {s.get("wrapUpCode") for s in agent_segments(conv)}


def test_history_has_timeouts_skips_and_deleted_codes(sandbox):
    token = sandbox.token()
    deleted = {c["id"] for c in sandbox.org()["codes"] if c["deleted"]}

    def hits(predicates, kind="and"):
        body = {"interval": interval(sandbox, 30), "segmentFilters": [{"type": kind, "predicates": predicates}]}
        return query(sandbox, body, token).json()["totalHits"]

    assert hits([{"dimension": "wrapUpCode", "value": TIMEOUT_CODE}]) > 0
    assert hits([{"dimension": "segmentType", "value": "wrapup"}, {"dimension": "wrapUpCode", "operator": "notExists"},
                 {"dimension": "segmentEnd", "operator": "exists"}]) > 0
    assert hits([{"dimension": "wrapUpCode", "value": c} for c in deleted], "or") > 0
    for media in ("voice", "chat", "email", "message"):
        assert hits([{"dimension": "mediaType", "value": media}]) > 0


def test_transfers_have_several_agent_legs_in_history(sandbox):
    body = {"interval": interval(sandbox, 30), "paging": {"pageSize": 100},
            "segmentFilters": [{"type": "and", "predicates": [{"dimension": "disconnectType", "value": "transfer"},
                                                                 {"dimension": "purpose", "value": "agent"}]}]}
    result = query(sandbox, body).json()
    assert result["totalHits"] > 0
    assert all(len([p for p in c["participants"] if p["purpose"] == "agent"]) >= 2 for c in result["conversations"])


def test_interval_selects_conversations_started_on_a_touched_day(sandbox):
    now = sandbox_now(sandbox)
    made = sandbox.create_conversation(state="ended", startedSecondsAgo=600)
    body = {"interval": f"{stamp(now - 60)}/{stamp(now)}", "paging": {"pageSize": 100},
            "conversationFilters": [{"type": "and", "predicates": [{"dimension": "conversationId", "value": made["id"]}]}]}
    assert ids(query(sandbox, body).json()) == [made["id"]]  # still active in the interval
    body["interval"] = f"{stamp(now + 60)}/{stamp(now + 120)}"
    assert ids(query(sandbox, body).json()) == []  # over before the interval began


def test_analytics_delay_hides_recent_changes(sandbox):
    made = sandbox.create_conversation(state="acw", startedSecondsAgo=300)
    path = f"/api/v2/analytics/conversations/{made['id']}/details"
    sandbox.configure(analytics_delay_seconds=600)
    assert_error(sandbox.api("GET", path), 404, "not.found")  # not ingested yet
    sandbox.configure(analytics_delay_seconds=120)
    kinds = [s["segmentType"] for s in agent_segments(sandbox.api("GET", path).json())]
    assert kinds == ["alert", "interact"]  # the ACW that began now is not visible yet
    sandbox.configure(analytics_delay_seconds=0)
    kinds = [s["segmentType"] for s in agent_segments(sandbox.api("GET", path).json())]
    assert kinds == ["alert", "interact", "wrapup"]


def test_analytics_delay_hides_a_fresh_code(sandbox):
    queue = queue_with(sandbox.org(), "MANDATORY")  # no timer: ACW waits for the code
    made = sandbox.create_conversation(queueId=queue["id"], state="acw")
    sandbox.clock(advance_seconds=60)
    sandbox.advance(made["id"], to="wrapped", wrapupCode=queue["codeIds"][0])
    sandbox.configure(analytics_delay_seconds=30)
    path = f"/api/v2/analytics/conversations/{made['id']}/details"
    wrap = [s for s in agent_segments(sandbox.api("GET", path).json()) if s["segmentType"] == "wrapup"]
    assert wrap and "wrapUpCode" not in wrap[0]
    sandbox.clock(advance_seconds=31)
    wrap = [s for s in agent_segments(sandbox.api("GET", path).json()) if s["segmentType"] == "wrapup"]
    assert wrap[0]["wrapUpCode"] == queue["codeIds"][0]


def test_duplicate_rate_repeats_rows(sandbox):
    sandbox.configure(analytics_duplicate_rate=1.0)
    body = {"interval": interval(sandbox, 30), "paging": {"pageSize": 10, "pageNumber": 2}}
    page = ids(query(sandbox, body).json())
    assert len(page) > len(set(page)) >= 10  # repeats within the page and from the page before


def test_details_by_id_endpoints(sandbox):
    made = sandbox.create_conversation(state="ended")
    one = sandbox.api("GET", f"/api/v2/analytics/conversations/{made['id']}/details")
    assert one.status_code == 200 and one.json()["conversationId"] == made["id"]
    several = sandbox.api("GET", f"/api/v2/analytics/conversations/details?id={made['id']},nope").json()
    assert [c["conversationId"] for c in several["conversations"]] == [made["id"]]
    assert_error(sandbox.api("GET", "/api/v2/analytics/conversations/nope/details"), 404, "not.found")
