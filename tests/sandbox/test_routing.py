"""Wrap-up codes, division views and queues: paging envelopes, filters, division fields."""

from __future__ import annotations

import pytest

from .helpers import assert_error

pytestmark = pytest.mark.integration

ENVELOPE = {"entities", "pageSize", "pageNumber", "total", "pageCount", "firstUri", "lastUri", "selfUri"}
CODE_KEYS = {"id", "name", "division", "description", "dateCreated", "dateModified", "createdBy", "modifiedBy",
             "selfUri"}


def collect(sandbox, path: str, token: str) -> list[dict]:
    """Follow nextUri to the end, as a client would."""
    items, uri = [], path
    while uri:
        body = sandbox.api("GET", uri, token=token).json()
        items.extend(body["entities"])
        uri = body.get("nextUri")
    return items


def test_codes_page_matches_the_reference_example(sandbox):
    response = sandbox.api("GET", "/api/v2/routing/wrapupcodes?pageSize=100&pageNumber=1")
    assert response.status_code == 200
    body = response.json()
    assert ENVELOPE <= set(body) and "nextUri" not in body
    active = [c for c in sandbox.org()["codes"] if not c["deleted"]]
    assert body["total"] == len(active) >= 36 and body["pageCount"] == 1
    assert body["selfUri"] == "/api/v2/routing/wrapupcodes?pageSize=100&pageNumber=1"
    code = body["entities"][0]
    assert set(code) == CODE_KEYS
    assert set(code["division"]) == {"id", "name", "selfUri"}
    assert code["selfUri"] == f"/api/v2/routing/wrapupcodes/{code['id']}"
    assert code["dateCreated"].endswith("Z")


def test_default_page_size_is_25_and_next_uri_walks_every_code_once(sandbox):
    token = sandbox.token()
    first = sandbox.api("GET", "/api/v2/routing/wrapupcodes", token=token).json()
    assert first["pageSize"] == 25 and first["pageNumber"] == 1 and len(first["entities"]) == 25
    assert first["nextUri"] == "/api/v2/routing/wrapupcodes?pageSize=25&pageNumber=2"
    items = collect(sandbox, "/api/v2/routing/wrapupcodes?pageSize=7", token)
    assert len(items) == first["total"] == len({c["id"] for c in items})
    deleted = {c["id"] for c in sandbox.org()["codes"] if c["deleted"]}
    assert deleted and not deleted & {c["id"] for c in items}


def test_last_page_and_page_past_the_end(sandbox):
    token = sandbox.token()
    total = sandbox.api("GET", "/api/v2/routing/wrapupcodes?pageSize=10", token=token).json()["total"]
    pages = -(-total // 10)
    last = sandbox.api("GET", f"/api/v2/routing/wrapupcodes?pageSize=10&pageNumber={pages}", token=token).json()
    assert "nextUri" not in last and last["previousUri"].endswith(f"pageNumber={pages - 1}")
    assert len(last["entities"]) == total - 10 * (pages - 1)
    past = sandbox.api("GET", f"/api/v2/routing/wrapupcodes?pageSize=10&pageNumber={pages + 5}", token=token).json()
    assert past["entities"] == [] and past["total"] == total and "nextUri" not in past


@pytest.mark.parametrize("query", ["pageSize=101", "pageSize=0", "pageNumber=0", "pageSize=abc"])
def test_bad_paging_is_400(sandbox, query):
    assert_error(sandbox.api("GET", f"/api/v2/routing/wrapupcodes?{query}"), 400, "bad.request")


def test_max_page_size_knob_moves_the_cap(sandbox):
    sandbox.configure(max_page_size=10)
    assert_error(sandbox.api("GET", "/api/v2/routing/queues?pageSize=11"), 400, "bad.request")
    assert sandbox.api("GET", "/api/v2/routing/queues?pageSize=10").status_code == 200


def test_code_name_filter_with_wildcards_and_sorting(sandbox):
    token = sandbox.token()
    body = sandbox.api("GET", "/api/v2/routing/wrapupcodes?name=billing*&sortOrder=descending", token=token).json()
    names = [c["name"] for c in body["entities"]]
    assert names and all(n.startswith("Billing") for n in names)
    assert names == sorted(names, reverse=True)
    assert body["selfUri"].endswith("&name=billing%2A&sortOrder=descending")
    exact = sandbox.api("GET", "/api/v2/routing/wrapupcodes?name=General - Resolved", token=token).json()
    assert [c["name"] for c in exact["entities"]] == ["General - Resolved"]
    inner = sandbox.api("GET", "/api/v2/routing/wrapupcodes?name=*resolved", token=token).json()
    assert inner["total"] > 1 and all(c["name"].endswith("Resolved") for c in inner["entities"])


def test_code_id_and_division_filters(sandbox):
    org = sandbox.org()
    active = [c for c in org["codes"] if not c["deleted"]]
    token = sandbox.token()
    ids = [active[0]["id"], active[5]["id"]]
    body = sandbox.api("GET", f"/api/v2/routing/wrapupcodes?id[]={ids[0]}&id[]={ids[1]}", token=token).json()
    assert sorted(c["id"] for c in body["entities"]) == sorted(ids)
    division = org["divisions"][1]["id"]
    body = sandbox.api("GET", f"/api/v2/routing/wrapupcodes?divisionId[]={division}&pageSize=100", token=token).json()
    assert body["total"] == len([c for c in active if c["divisionId"] == division]) > 0
    assert all(c["division"]["id"] == division for c in body["entities"])


def test_get_one_code_and_deleted_code_is_404(sandbox):
    codes = sandbox.org()["codes"]
    token = sandbox.token()
    live = next(c for c in codes if not c["deleted"])
    assert sandbox.api("GET", f"/api/v2/routing/wrapupcodes/{live['id']}", token=token).json()["name"] == live["name"]
    gone = next(c for c in codes if c["deleted"])
    assert_error(sandbox.api("GET", f"/api/v2/routing/wrapupcodes/{gone['id']}", token=token), 404, "not.found")


def test_division_views_include_deleted_codes_on_request(sandbox):
    codes = sandbox.org()["codes"]
    token = sandbox.token()
    base = "/api/v2/routing/wrapupcodes/divisionviews?pageSize=100"
    active = sandbox.api("GET", base, token=token).json()
    deleted = sandbox.api("GET", base + "&includeState=Deleted", token=token).json()
    both = sandbox.api("GET", base + "&includeState=ActiveAndDeleted", token=token).json()
    assert deleted["total"] == len([c for c in codes if c["deleted"]]) >= 3
    assert active["total"] + deleted["total"] == both["total"] == len(codes)
    gone = deleted["entities"][0]
    assert set(gone) == {"id", "name", "division", "selfUri"}
    one = sandbox.api("GET", f"/api/v2/routing/wrapupcodes/divisionviews/{gone['id']}", token=token)
    assert one.status_code == 200 and one.json()["name"] == gone["name"]
    assert_error(sandbox.api("GET", base + "&includeState=Nope", token=token), 400, "bad.request")
    assert_error(sandbox.api("GET", base + f"&name=B*&id[]={gone['id']}", token=token), 400, "bad.request")


def test_queues_carry_acw_settings_covering_all_five_prompts(sandbox):
    body = sandbox.api("GET", "/api/v2/routing/queues?pageSize=100").json()
    assert body["total"] >= 8
    prompts = {q["acwSettings"]["wrapupPrompt"] for q in body["entities"]}
    assert prompts == {"OPTIONAL", "MANDATORY", "MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT", "AGENT_REQUESTED"}
    for queue in body["entities"]:
        acw = queue["acwSettings"]
        timed = acw["wrapupPrompt"] in ("MANDATORY_TIMEOUT", "MANDATORY_FORCED_TIMEOUT", "AGENT_REQUESTED")
        assert ("timeoutMs" in acw) == timed
        assert {"id", "name", "division", "memberCount", "userMemberCount", "joinedMemberCount", "selfUri"} <= set(queue)


def test_queue_paging_matches_the_reference_example(sandbox):
    body = sandbox.api("GET", "/api/v2/routing/queues?pageSize=1").json()
    assert body["pageSize"] == 1 and body["pageCount"] == body["total"]
    assert body["nextUri"] == "/api/v2/routing/queues?pageSize=1&pageNumber=2"
    assert body["selfUri"] == "/api/v2/routing/queues?pageSize=1&pageNumber=1"


def test_queue_name_filter_leading_and_trailing_wildcards(sandbox):
    token = sandbox.token()
    support = sandbox.api("GET", "/api/v2/routing/queues?name=Support*", token=token).json()
    assert {q["name"] for q in support["entities"]} == {"Support EN"}
    care = sandbox.api("GET", "/api/v2/routing/queues?name=*care*", token=token).json()
    assert {q["name"] for q in care["entities"]} == {"Chat Care"}
    assert sandbox.api("GET", "/api/v2/routing/queues?name=nothing*", token=token).json()["total"] == 0


def test_queue_by_id_and_its_code_group(sandbox):
    org = sandbox.org()
    token = sandbox.token()
    queue = org["queues"][0]
    got = sandbox.api("GET", f"/api/v2/routing/queues/{queue['id']}", token=token).json()
    assert got["name"] == queue["name"] and got["acwSettings"]["wrapupPrompt"] == queue["wrapupPrompt"]
    codes = sandbox.api("GET", f"/api/v2/routing/queues/{queue['id']}/wrapupcodes", token=token).json()
    assert [c["id"] for c in codes["entities"]] == queue["codeIds"][:25]
    assert codes["total"] == len(queue["codeIds"]) and {"id", "name"} <= set(codes["entities"][0])
    assert_error(sandbox.api("GET", "/api/v2/routing/queues/nope", token=token), 404, "not.found")
    assert_error(sandbox.api("GET", "/api/v2/routing/queues/nope/wrapupcodes", token=token), 404, "not.found")


def test_code_groups_overlap_between_queues(sandbox):
    queues = sandbox.org()["queues"]
    shared = set(queues[0]["codeIds"])
    for queue in queues[1:]:
        shared &= set(queue["codeIds"])
    assert shared  # the "General - …" codes are offered everywhere
    assert len({frozenset(q["codeIds"]) for q in queues}) == len(queues)  # but the groups differ


def test_unknown_api_path_is_404_error_body(sandbox):
    assert_error(sandbox.api("GET", "/api/v2/interactions/123/wrapup"), 404, "not.found")
