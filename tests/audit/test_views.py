"""Compliance pages: filters, keyset paging, remembered filters, detail with neighbours, chain status."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from wrapup_portal.audit.models import Action
from wrapup_portal.audit.selectors import AuditFilter, audit_event_page
from wrapup_portal.audit.services import Actor, audit_checkpoint_record, audit_record

pytestmark = pytest.mark.django_db
LIST = "/audit/"


@pytest.fixture
def compliance_client(compliance, client_for):
    return client_for(compliance)  # event #1: the sign-in


def assign(conversation: str, *, code: str = "c-sale", name: str = "Sale", by: str = "lena", queue: str = "q-1", outcome: str = "applied") -> None:
    audit_record(
        action=Action.ASSIGNMENT_APPLIED, actor=Actor(kind="user", id="7", username=by), conversation_id=conversation,
        queue_id=queue, code_before_id="c-old", code_before_name="Old", code_after_id=code, code_after_name=name, outcome=outcome,
    )


def shown(response) -> list[int]:
    return [event.sequence for event in response.context["page"].events]


def test_the_list_shows_newest_first_with_the_chain_status(compliance_client) -> None:
    assign("conv-1")
    audit_checkpoint_record()
    response = compliance_client.get(LIST + "?action=")
    assert response.status_code == 200
    assert shown(response) == [3, 2, 1]  # sign-in, assignment, checkpoint event
    body = response.content.decode()
    assert "last verified <span class=\"status-ok\">#2</span>" in body and "1 written since" in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("conversation=conv-2", [4, 3]),
        ("actor=bob", [3]),
        ("action=assignment.applied&queue=q-9", [5]),
        ("code=Sale", [4, 3, 2]),
        ("code=c-old", [5, 4, 3, 2]),
        ("code=c-other", [5]),
        ("outcome=failed", [4]),
        ("action=auth.sign_in", [1]),
    ],
)
def test_each_filter_selects_its_events(compliance_client, query: str, expected: list[int]) -> None:
    assign("conv-1")
    assign("conv-2", by="bob")
    assign("conv-2", outcome="failed")
    assign("conv-3", code="c-other", name="Other", queue="q-9")
    assert shown(compliance_client.get(f"{LIST}?{query}")) == expected


def test_the_time_range_filter(compliance_client, monkeypatch) -> None:
    from django.utils import timezone

    base = timezone.now() + timedelta(days=1)
    for hours in (1, 2, 3, 4):
        clock = SimpleNamespace(now=lambda h=hours: base + timedelta(hours=h))
        monkeypatch.setattr("wrapup_portal.audit.services.timezone", clock)
        assign(f"conv-{hours}")
    since = (base + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S")
    until = (base + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%S")
    assert shown(compliance_client.get(f"{LIST}?since={since}&until={until}")) == [4, 3]
    response = compliance_client.get(f"{LIST}?since={until}&until={since}")
    assert response.context["form"].errors and shown(response) == []


def test_keyset_pages_walk_both_ways_without_offset_or_count(compliance_client) -> None:
    for i in range(9):
        assign(f"conv-{i}")
    filters = AuditFilter(action=Action.ASSIGNMENT_APPLIED)
    with CaptureQueriesContext(connection) as queries:
        first = audit_event_page(filters=filters, size=4)
        second = audit_event_page(filters=filters, before=first.older, size=4)
        third = audit_event_page(filters=filters, before=second.older, size=4)
        back = audit_event_page(filters=filters, after=third.newer, size=4)
    assert [e.sequence for e in first.events] == [10, 9, 8, 7] and first.newer is None
    assert [e.sequence for e in second.events] == [6, 5, 4, 3] and second.newer == 6
    assert [e.sequence for e in third.events] == [2] and third.older is None
    assert [e.sequence for e in back.events] == [6, 5, 4, 3]
    sql = " ".join(q["sql"].upper() for q in queries.captured_queries)
    assert "OFFSET" not in sql and "COUNT(" not in sql


def test_the_pager_links_keep_the_filter(compliance_client) -> None:
    for i in range(55):
        assign("conv-x")
    response = compliance_client.get(LIST + "?conversation=conv-x")
    assert len(shown(response)) == 50
    assert 'href="?conversation=conv-x&amp;before=7"' in response.content.decode()
    assert shown(compliance_client.get(LIST + "?conversation=conv-x&before=7")) == [6, 5, 4, 3, 2]


def test_the_filter_is_remembered_in_the_session_until_cleared(compliance_client) -> None:
    compliance_client.get(LIST + "?conversation=conv-1&before=99")
    response = compliance_client.get(LIST)
    assert (response.status_code, response["Location"]) == (302, LIST + "?conversation=conv-1")
    assert compliance_client.get(LIST + "?clear=1")["Location"] == LIST
    assert compliance_client.get(LIST).status_code == 200


def test_htmx_gets_only_the_results_fragment(compliance_client) -> None:
    response = compliance_client.get(LIST + "?action=auth.sign_in", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="results">') and "<html" not in body


def test_event_detail_shows_its_neighbours_and_integrity(compliance_client) -> None:
    assign("conv-1")
    assign("conv-2")
    response = compliance_client.get(reverse("audit:detail", args=[2]))
    assert response.status_code == 200
    context = response.context
    assert (context["previous"].sequence, context["following"].sequence) == (1, 3)
    assert context["hash_ok"] and context["linked"]
    assert "content matches its hash" in response.content.decode()
    assert compliance_client.get(reverse("audit:detail", args=[99])).status_code == 404
