"""The search page against the sandbox over HTTP: ground-truth counts, scoping, errors, cache, export."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import datetime
from typing import Any

import pytest

from integrations.genesys import WRAP_UP_TIMEOUT
from wrapup_portal.interactions import forms
from wrapup_portal.core.read_cache import reads_invalidate

from .conftest import api_calls, ground_truth, yesterday

pytestmark = pytest.mark.integration

LEG = re.compile(r'name="leg" value="([0-9a-f-]+)/([0-9a-f-]+)"')


def local(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M")  # the form reads datetime-local in the (UTC) test zone


def legs_on_pages(client: Any, params: dict[str, Any]) -> set[tuple[str, str]]:
    """Every (conversation, participant) the page lists, following "next" to the end."""
    found: set[tuple[str, str]] = set()
    page = 1
    while True:
        response = client.get("/interactions/", {**params, "page": page})
        assert response.status_code == 200
        html = response.content.decode()
        found.update(LEG.findall(html))
        if "next →" not in html:
            return found
        page += 1


@pytest.fixture
def setup(catalog: Any, lead: Any, grant: Any, client_for: Any) -> dict[str, Any]:
    sandbox = catalog
    start, end = yesterday(sandbox)
    rows = ground_truth(sandbox, start, end)
    # The lead's queues: the one with most legs left without a code, and the one with most time-outs.
    no_code = Counter(r["queueId"] for r in rows if r["acwBegun"] and r["wrapupCode"] is None)
    timeouts = Counter(r["queueId"] for r in rows if r["wrapupCode"] == WRAP_UP_TIMEOUT)
    mine = [no_code.most_common(1)[0][0]]
    mine.append(next(q for q, _ in timeouts.most_common() if q not in mine))
    other = next(q for q, _ in Counter(r["queueId"] for r in rows).most_common() if q not in mine)
    grant(lead, mine)
    params = {"preset": "custom", "start": local(start), "end": local(end)}
    return {"sandbox": sandbox, "rows": rows, "mine": mine, "other": other, "client": client_for(lead), "params": params}


def truth(rows: list[dict[str, Any]], queues: list[str], keep: Any) -> set[tuple[str, str]]:
    return {(r["conversationId"], r["participantId"]) for r in rows if r["queueId"] in queues and keep(r)}


def test_each_wrapup_state_matches_the_ground_truth_on_the_leads_queues(setup: dict[str, Any]) -> None:
    rows, mine, client, params = setup["rows"], setup["mine"], setup["client"], setup["params"]
    code, _ = Counter(r["wrapupCode"] for r in rows
                      if r["queueId"] in mine and r["wrapupCode"] and not r["wrapupCode"].startswith("ININ-")).most_common(1)[0]  # fmt: skip
    cases = {
        "none": lambda r: r["acwBegun"] and r["wrapupCode"] is None,
        "timeout": lambda r: r["wrapupCode"] == WRAP_UP_TIMEOUT,
        "coded": lambda r: bool(r["wrapupCode"]) and not r["wrapupCode"].startswith("ININ-"),
        "any": lambda r: True,
    }
    for wrapup, keep in cases.items():
        expected = truth(rows, mine, keep)
        assert expected, wrapup
        assert legs_on_pages(client, {**params, "wrapup": wrapup}) == expected, wrapup
    expected = truth(rows, mine, lambda r: r["wrapupCode"] == code)
    assert legs_on_pages(client, {**params, "wrapup": "code", "code": code}) == expected


def test_one_queue_of_the_leads_and_the_rows_name_it(setup: dict[str, Any]) -> None:
    rows, mine, client, params = setup["rows"], setup["mine"], setup["client"], setup["params"]
    expected = truth(rows, mine[1:], lambda r: r["wrapupCode"] == WRAP_UP_TIMEOUT)
    assert expected

    response = client.get("/interactions/", {**params, "wrapup": "timeout", "queue": mine[1]})

    assert set(LEG.findall(response.content.decode())) == expected
    assert "Timed out (no code chosen)" in response.content.decode()


def test_a_queue_not_granted_is_a_form_error_and_costs_no_call(setup: dict[str, Any]) -> None:
    sandbox, client, params = setup["sandbox"], setup["client"], setup["params"]
    before = api_calls(sandbox)

    response = client.get("/interactions/", {**params, "queue": setup["other"]})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not LEG.findall(response.content.decode())
    assert api_calls(sandbox) == before


def test_a_lead_without_queues_is_told_and_nothing_is_asked(catalog: Any, lead: Any, client_for: Any) -> None:
    before = api_calls(catalog)
    response = client_for(lead).get("/interactions/", {"preset": "today"})
    assert "No queues are granted to you yet" in response.content.decode()
    assert api_calls(catalog) == before


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"preset": "custom", "start": "2026-05-02T00:00", "end": "2026-05-01T00:00"}, forms.END_BEFORE_START),
        ({"preset": "custom", "start": "2026-01-01T00:00", "end": "2026-05-01T00:00"}, forms.RANGE_TOO_LONG.format(days=31)),
        ({"preset": "custom", "start": "2099-01-01T00:00", "end": "2099-01-02T00:00"}, forms.RANGE_IN_FUTURE),
        ({"preset": "custom", "start": "2026-05-01T00:00"}, forms.CUSTOM_NEEDS_DATES),
        ({"preset": "custom", "start": "not a date", "end": "2026-05-01T00:00"}, "Enter a valid date/time."),
        ({"conversation": "12345; DROP TABLE"}, forms.BAD_CONVERSATION_ID),
        ({"agent": "../etc/passwd"}, forms.BAD_AGENT_ID),
        ({"wrapup": "code"}, forms.CODE_NEEDED),
        ({"wrapup": "bogus"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_a_form_error_and_costs_no_call(setup: dict[str, Any], params: dict[str, str], message: str) -> None:
    sandbox, client = setup["sandbox"], setup["client"]
    before = api_calls(sandbox)

    response = client.get("/interactions/", params)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert api_calls(sandbox) == before


def test_an_exact_conversation_id_jumps_to_its_detail(setup: dict[str, Any]) -> None:
    cid = next(iter(truth(setup["rows"], setup["mine"], lambda r: True)))[0]
    response = setup["client"].get("/interactions/", {"conversation": cid.upper()})
    assert response.status_code == 302
    assert response["Location"] == f"/interactions/{cid}/"


def test_genesys_down_keeps_the_filters_and_offers_a_retry(setup: dict[str, Any]) -> None:
    sandbox, client, params = setup["sandbox"], setup["client"], setup["params"]
    sandbox.configure(error_rate=1.0)

    response = client.get("/interactions/", {**params, "wrapup": "timeout"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Genesys could not answer this search" in html
    assert ">Retry</a>" in html
    assert 'value="timeout" selected' in html  # the filters are kept


def test_filters_remember_themselves(setup: dict[str, Any]) -> None:
    client, params = setup["client"], setup["params"]
    client.get("/interactions/", {**params, "wrapup": "none"})

    response = client.get("/interactions/")

    assert response.status_code == 302
    assert "wrapup=none" in response["Location"]
    assert client.get("/interactions/?clear=1")["Location"] == "/interactions/"


def test_paging_back_costs_no_call_until_the_portal_changes_a_wrapup(setup: dict[str, Any]) -> None:
    sandbox, client, params = setup["sandbox"], setup["client"], setup["params"]
    query = {**params, "wrapup": "any"}
    client.get("/interactions/", query)
    before = api_calls(sandbox)

    client.get("/interactions/", query)
    assert api_calls(sandbox) == before  # served from the cache

    reads_invalidate(conversation_id="0ae82ce3-5c8e-4865-82d4-caa2a4e6a1de")
    client.get("/interactions/", query)
    assert api_calls(sandbox) == before + 1  # the portal wrote a wrap-up: read Genesys again


def test_the_csv_export_holds_the_rows_the_pages_show(setup: dict[str, Any]) -> None:
    client, params = setup["client"], setup["params"]
    query = {**params, "wrapup": "timeout"}
    shown = legs_on_pages(client, query)

    response = client.get("/interactions/export.csv", query)

    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {(r["conversation_id"], r["participant_id"]) for r in rows} == shown
    assert {r["wrapup_code"] for r in rows} == {WRAP_UP_TIMEOUT}
    assert all(r["queue"] and r["state"] == "final" for r in rows)


def test_compliance_may_not_search(catalog: Any, compliance: Any, client_for: Any) -> None:
    assert client_for(compliance).get("/interactions/").status_code == 403
