"""Compliance pages: filters, keyset paging, remembered filters, detail with neighbours, chain status."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.module_loading import import_string
from django_q.models import OrmQ

from wrapup_portal.audit.forms import TIME_RANGE_REVERSED
from wrapup_portal.audit.models import Action, AuditCheckpoint, AuditEvent
from wrapup_portal.audit.selectors import AuditFilter, audit_event_page
from wrapup_portal.audit.services import Actor, audit_checkpoint_record, audit_record
from wrapup_portal.audit.tasks import audit_chain_verify_requested

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


def test_event_detail_shows_extra_as_key_value_rows(compliance_client) -> None:
    event = audit_record(action=Action.SYNC_STARTED, actor=Actor.system("catalog sync"), target_kind="sync_run", target_id="4",
                         extra={"trigger": "manual", "queue_ids": ["q-1", "q-2"], "filter": {"since": "2030-01-01", "n": 2}, "ok": True})
    html = compliance_client.get(reverse("audit:detail", args=[event.sequence])).content.decode()
    assert "{'" not in html and "True" not in html  # no Python dict, no Python literals
    assert '<th scope="row">trigger</th><td class="mono">manual</td>' in html
    assert '<th scope="row">queue_ids</th><td class="mono">[&quot;q-1&quot;, &quot;q-2&quot;]</td>' in html
    assert '<th scope="row">filter</th><td class="mono">{&quot;n&quot;: 2, &quot;since&quot;: &quot;2030-01-01&quot;}</td>' in html
    assert '<th scope="row">ok</th><td class="mono">true</td>' in html


def test_htmx_filtering_shows_the_filter_errors_in_the_swapped_results(compliance_client) -> None:
    # htmx swaps only #results: errors rendered in the form above it were never seen.
    response = compliance_client.get(LIST + "?since=2030-01-02T10:00&until=2030-01-01T10:00", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="results">')
    assert TIME_RANGE_REVERSED in body


def run_queued_tasks() -> list[object]:
    """Do what the cluster would: run every queued django-q2 task, oldest first."""
    results = []
    for queued in OrmQ.objects.order_by("id"):
        task = queued.task
        results.append(import_string(task["func"])(*task["args"], **task["kwargs"]))
        queued.delete()
    return results


def test_verify_now_is_audited_queued_and_its_result_shown_when_done(compliance_client, django_capture_on_commit_callbacks) -> None:
    assign("conv-1")
    assert 'action="/audit/verify/"' in compliance_client.get(LIST + "?action=").content.decode()  # the button
    with django_capture_on_commit_callbacks(execute=True):
        response = compliance_client.post("/audit/verify/")
    requested = AuditEvent.objects.get(action=Action.CHAIN_VERIFY_REQUESTED)
    assert requested.actor_username == "compliance" and requested.outcome == "queued"
    assert response.status_code == 302 and response["Location"] == f"/audit/verify/{requested.sequence}/"
    assert OrmQ.objects.count() == 1  # queued for the cluster, not run in the request
    assert not AuditCheckpoint.objects.exists()

    waiting = compliance_client.get(response["Location"]).content.decode()
    assert "Queued" in waiting and 'hx-trigger="every 2s"' in waiting
    assert "HX-Refresh" not in compliance_client.get(response["Location"], headers={"HX-Request": "true"})

    assert run_queued_tasks() == [f"verify now #{requested.sequence}: Chain verified, checkpoint recorded (#{requested.sequence + 1})"]
    answer = AuditEvent.objects.get(action=Action.CHAIN_CHECKPOINT)
    assert answer.extra["request"] == requested.sequence and answer.extra["sequence"] == requested.sequence
    assert compliance_client.get(response["Location"], headers={"HX-Request": "true"})["HX-Refresh"] == "true"
    done = compliance_client.get(response["Location"]).content.decode()
    assert f"Chain intact: every event up to #{requested.sequence} verified" in done and "hx-trigger" not in done
    # Safe to run twice: a repeated task records no second verification.
    audit_chain_verify_requested(requested.sequence)
    assert AuditCheckpoint.objects.count() == 1 and AuditEvent.objects.filter(action=Action.CHAIN_CHECKPOINT).count() == 1


def test_verify_now_needs_the_export_permission(lead, client_for, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(lead).post("/audit/verify/").status_code == 403
    assert not AuditEvent.objects.filter(action=Action.CHAIN_VERIFY_REQUESTED).exists() and not OrmQ.objects.exists()
