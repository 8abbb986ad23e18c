"""Catalogue management endpoints: what admins do in Genesys while the portal runs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture
def org_sandbox(sandbox) -> Iterator[object]:
    """These tests change the organisation: rebuild it from the seed afterwards."""
    yield sandbox
    sandbox.reset(state=True)


def code_names(sandbox, path: str = "/api/v2/routing/wrapupcodes?pageSize=100") -> dict[str, str]:
    return {c["id"]: c["name"] for c in sandbox.api("GET", path).json()["entities"]}


def test_create_rename_and_delete_a_code(org_sandbox) -> None:
    sandbox = org_sandbox
    created = sandbox.api("POST", "/api/v2/routing/wrapupcodes", json={"name": "Sales - Upsell", "description": "d"})
    assert created.status_code == 200
    code = created.json()
    assert code["name"] == "Sales - Upsell" and code["division"]["id"] and code["selfUri"].endswith(code["id"])
    assert code_names(sandbox)[code["id"]] == "Sales - Upsell"

    renamed = sandbox.api("PUT", f"/api/v2/routing/wrapupcodes/{code['id']}", json={"name": "Sales - Upsold"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Sales - Upsold"

    assert sandbox.api("DELETE", f"/api/v2/routing/wrapupcodes/{code['id']}").status_code == 204
    assert code["id"] not in code_names(sandbox)
    views = code_names(sandbox, "/api/v2/routing/wrapupcodes/divisionviews?pageSize=100&includeState=Deleted")
    assert views[code["id"]] == "Sales - Upsold"  # deleted codes keep their name in division views
    assert sandbox.api("DELETE", f"/api/v2/routing/wrapupcodes/{code['id']}").status_code == 404


def test_duplicate_or_missing_name_is_a_bad_request(org_sandbox) -> None:
    existing = next(iter(code_names(org_sandbox).values()))
    duplicate = org_sandbox.api("POST", "/api/v2/routing/wrapupcodes", json={"name": existing})
    assert duplicate.status_code == 400 and duplicate.json()["code"] == "bad.request"
    assert org_sandbox.api("POST", "/api/v2/routing/wrapupcodes", json={"description": "x"}).status_code == 400


def test_assign_codes_to_a_queue_and_remove_them(org_sandbox) -> None:
    sandbox = org_sandbox
    queue = sandbox.org()["queues"][0]
    new = sandbox.api("POST", "/api/v2/routing/wrapupcodes", json={"name": "Brand new"}).json()
    path = f"/api/v2/routing/queues/{queue['id']}/wrapupcodes"
    assert sandbox.api("POST", path, json=[{"id": new["id"]}]).status_code == 200
    assert new["id"] in code_names(sandbox, path + "?pageSize=100")
    assert sandbox.api("DELETE", f"{path}/{new['id']}").status_code == 204
    assert new["id"] not in code_names(sandbox, path + "?pageSize=100")
    unknown = sandbox.api("POST", path, json=[{"id": "no-such-code"}])
    assert unknown.status_code == 400 and "no-such-code" in unknown.json()["message"]
    too_many = sandbox.api("POST", path, json=[{"id": new["id"]}] * 101)
    assert too_many.status_code == 400


def test_deleting_a_code_removes_it_from_every_queue(org_sandbox) -> None:
    sandbox = org_sandbox
    queue = sandbox.org()["queues"][0]
    code_id = queue["codeIds"][0]
    assert sandbox.api("DELETE", f"/api/v2/routing/wrapupcodes/{code_id}").status_code == 204
    for q in sandbox.org()["queues"]:
        listed = code_names(sandbox, f"/api/v2/routing/queues/{q['id']}/wrapupcodes?pageSize=100")
        assert code_id not in listed


def test_a_deleted_queue_is_gone_from_every_routing_endpoint(org_sandbox) -> None:
    sandbox = org_sandbox
    queue = sandbox.org()["queues"][0]
    assert sandbox.api("DELETE", f"/api/v2/routing/queues/{queue['id']}").status_code == 204
    assert sandbox.api("GET", f"/api/v2/routing/queues/{queue['id']}").status_code == 404
    assert sandbox.api("GET", f"/api/v2/routing/queues/{queue['id']}/wrapupcodes").status_code == 404
    listed = sandbox.api("GET", "/api/v2/routing/queues?pageSize=100").json()["entities"]
    assert queue["id"] not in {q["id"] for q in listed}
