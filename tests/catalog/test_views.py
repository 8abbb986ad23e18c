"""Admin pages of the catalog: groups, toggles, Sync now, progress, drift."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone
from django_q.models import OrmQ

from wrapup_portal.audit.models import Action, AuditEvent
from wrapup_portal.catalog.forms import NO_QUEUES_CHOSEN
from wrapup_portal.catalog.models import CodeGroup, Membership, SyncChange, SyncRun, WrapupCode
from wrapup_portal.catalog.services import SYNC_ALREADY_RUNNING, sync_run_execute, sync_run_request
from wrapup_portal.catalog.snapshot import CatalogSnapshot, CodeInfo, QueueInfo
from wrapup_portal.core.genesys import build_genesys_client
from wrapup_portal.core.models import Heartbeat
from wrapup_portal.core.selectors import CLUSTER_HEARTBEAT

pytestmark = pytest.mark.django_db


def synced_catalog() -> SyncRun:
    request = sync_run_request(trigger=SyncRun.Trigger.CLI)
    return sync_run_execute(run_id=request.run.pk, client=build_genesys_client())


@pytest.fixture
def admin_client(admin_user, client_for) -> Client:
    return client_for(admin_user)


@pytest.mark.integration
def test_group_list_shows_the_synced_catalog_and_remembers_the_search(genesys, admin_client) -> None:
    synced_catalog()
    group = CodeGroup.objects.order_by("name").first()
    response = admin_client.get("/catalog/", {"q": group.name})
    assert response.status_code == 200 and group.name in response.content.decode()
    assert list(response.context["page"]) == list(CodeGroup.objects.filter(name__icontains=group.name))
    remembered = admin_client.get("/catalog/")
    assert remembered.status_code == 302 and f"q={group.name.replace(' ', '+')}" in remembered["Location"]


def test_sync_now_queues_one_task_and_shows_the_run(admin_client, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/catalog/sync/")
    run = SyncRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/catalog/runs/{run.pk}/"
    assert OrmQ.objects.count() == 1
    assert run.started_by.username == "admin" and run.status == SyncRun.Status.QUEUED
    with django_capture_on_commit_callbacks(execute=True):
        again = admin_client.post("/catalog/sync/", follow=True)
    assert SyncRun.objects.count() == 1 and OrmQ.objects.count() == 1
    assert SYNC_ALREADY_RUNNING in again.content.decode()


def test_progress_fragment_polls_while_running_and_stops_when_done(admin_client) -> None:
    run = SyncRun.objects.create(trigger="manual", status=SyncRun.Status.RUNNING, lock=True,
                                 phase="Reading each queue's codes", progress_done=3, progress_total=8)
    fragment = admin_client.get(f"/catalog/runs/{run.pk}/", headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert "<html" not in body and 'id="progress"' in body
    assert 'hx-trigger="every 1s"' in body and 'value="37"' in body and "3 of 8" in body
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.SUCCEEDED, lock=None)
    done = admin_client.get(f"/catalog/runs/{run.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in done


@pytest.mark.parametrize("status", [SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED])
def test_poll_that_sees_the_run_finish_reloads_the_page_by_header(admin_client, status) -> None:
    run = SyncRun.objects.create(trigger="manual", status=SyncRun.Status.RUNNING, lock=True)
    assert "HX-Refresh" not in admin_client.get(f"/catalog/runs/{run.pk}/", headers={"HX-Request": "true"})
    SyncRun.objects.filter(pk=run.pk).update(status=status, lock=None, error="Genesys said no" if status == "failed" else "")
    poll = admin_client.get(f"/catalog/runs/{run.pk}/", headers={"HX-Request": "true"})
    # htmx reloads the whole page: the changes table lies outside the polled fragment.
    assert poll.status_code == 200 and poll["HX-Refresh"] == "true" and poll.content == b""
    reloaded = admin_client.get(f"/catalog/runs/{run.pk}/")
    assert "HX-Refresh" not in reloaded and "hx-trigger" not in reloaded.content.decode()  # no second reload


def inline_scripts(html: str) -> list[str]:
    """Every <script> tag in `html` that has no src (a Content-Security-Policy without 'unsafe-inline' blocks them)."""
    return [tag for tag in re.findall(r"<script\b[^>]*>", html, flags=re.IGNORECASE) if not re.search(r"\ssrc\s*=", tag)]


def test_catalog_pages_have_no_inline_script(admin_client, lead) -> None:
    now = timezone.now()
    group = CodeGroup.objects.create(queue_id="q-1", name="Billing", first_seen_at=now, changed_at=now)
    code = WrapupCode.objects.create(code_id="c-1", name="Refund", first_seen_at=now, changed_at=now)
    Membership.objects.create(group=group, code=code, added_at=now)
    runs = [SyncRun.objects.create(trigger="manual", status=status, error="Genesys said no" if status == "failed" else "")
            for status in SyncRun.Status.values]
    pages = ["/catalog/", f"/catalog/groups/{group.pk}/", "/catalog/runs/", "/catalog/drift/",
             "/accounts/grants/", f"/accounts/grants/{lead.pk}/"] + [f"/catalog/runs/{run.pk}/" for run in runs]
    for url in pages:
        for headers in ({}, {"HX-Request": "true"}):
            response = admin_client.get(url, headers=headers)
            assert response.status_code == 200, url
            html = response.content.decode()
            assert inline_scripts(html) == [], (url, headers)
            if not headers:
                assert 'src="/static/vendor/htmx/' in html  # the check sees the page's <script src> tags


@pytest.mark.integration
def test_toggling_queues_is_audited_once_per_queue_changed(genesys, admin_client) -> None:
    synced_catalog()
    groups = list(CodeGroup.objects.order_by("name")[:2])
    ids = [g.queue_id for g in groups]
    admin_client.post("/catalog/synced/", {"queue_ids": ids, "synced": "1"})
    assert set(CodeGroup.objects.filter(synced=True).values_list("queue_id", flat=True)) == set(ids)
    events = AuditEvent.objects.filter(action=Action.CATALOG_SETTINGS_CHANGED)
    assert sorted(events.values_list("target_id", flat=True)) == sorted(ids)
    assert events.first().actor_username == "admin"
    admin_client.post("/catalog/synced/", {"queue_ids": ids, "synced": "1"})  # nothing to change
    assert events.count() == 2


@pytest.mark.integration
def test_toggle_with_an_unknown_queue_changes_nothing(genesys, admin_client) -> None:
    synced_catalog()
    real = CodeGroup.objects.first().queue_id
    response = admin_client.post("/catalog/synced/", {"queue_ids": [real, "forged-id"], "synced": "1"}, follow=True)
    assert "forged-id is not one of the available choices" in response.content.decode()
    assert not CodeGroup.objects.filter(synced=True).exists()
    assert not AuditEvent.objects.filter(action=Action.CATALOG_SETTINGS_CHANGED).exists()
    response = admin_client.post("/catalog/synced/", {"synced": "1"}, follow=True)
    assert NO_QUEUES_CHOSEN in response.content.decode()


@pytest.mark.integration
def test_drift_shows_what_changed_in_genesys_since_the_last_sync(genesys, admin_client) -> None:
    synced_catalog()
    # Make the portal's copy differ from Genesys in every way the drift view reports.
    renamed = WrapupCode.objects.order_by("name").first()
    WrapupCode.objects.filter(pk=renamed.pk).update(name="Old name")
    membership = Membership.objects.select_related("group", "code").first()
    membership.delete()
    gone = WrapupCode.objects.create(code_id="gone-code", name="Gone code", first_seen_at=renamed.first_seen_at,
                                     changed_at=renamed.changed_at)
    run = synced_catalog()
    kinds = {(c.kind, c.code_id) for c in SyncChange.objects.filter(run=run)}
    assert (SyncChange.Kind.CODE_RENAMED, renamed.pk) in kinds
    assert (SyncChange.Kind.CODE_JOINED_QUEUE, membership.code_id) in kinds
    assert (SyncChange.Kind.CODE_RETIRED, gone.pk) in kinds
    assert (run.changed, run.retired) == (2, 1)  # renamed, joined a queue; retired
    gone.refresh_from_db()
    assert gone.retired_at is not None and gone.name == "Gone code"  # retired, never deleted
    page = admin_client.get("/catalog/drift/").content.decode()
    assert "<td>Code renamed</td>" in page and "Old name" in page and "Code retired" in page and "Code added to queue" in page
    only_retired = admin_client.get("/catalog/drift/", {"kind": "code_retired"}).content.decode()
    assert "Gone code" in only_retired and "<td>Code renamed</td>" not in only_retired


def test_team_lead_cannot_sync_and_nothing_is_queued(lead, client_for, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(lead).post("/catalog/sync/")
    assert response.status_code == 403
    assert not SyncRun.objects.exists() and not OrmQ.objects.exists()


def test_clear_forgets_the_remembered_search(admin_client) -> None:
    admin_client.get("/catalog/", {"q": "Billing", "page": "2"})
    remembered = admin_client.get("/catalog/")
    assert remembered["Location"] == "/catalog/?q=Billing"  # the search, not the page
    assert admin_client.get("/catalog/", {"clear": "1"})["Location"] == "/catalog/"
    assert admin_client.get("/catalog/").status_code == 200


# --- Rough edges (issue 11): readable drift, a first sync that is no drift, honest searches ---

DIVISION_HOME, DIVISION_SUPPORT = "7f3c0b1e-0c7a-4d2e-9a51-3f0e6b8f9a10", "c2a1d5e4-8b9f-4a3c-b2d1-6e5f4a3b2c1d"


def queue(queue_id: str, name: str, *, division: str = DIVISION_HOME, prompt: str = "MANDATORY", timeout: int | None = None) -> QueueInfo:
    names = {DIVISION_HOME: "Home", DIVISION_SUPPORT: "Support"}
    return QueueInfo(queue_id=queue_id, name=name, division_id=division, division_name=names[division],
                     wrapup_prompt=prompt, acw_timeout_ms=timeout)


def code(code_id: str, name: str, description: str = "") -> CodeInfo:
    return CodeInfo(code_id=code_id, name=name, description=description, division_id=DIVISION_HOME, division_name="Home")


def sync_snapshot(monkeypatch, snapshot: CatalogSnapshot) -> SyncRun:
    """A whole sync run (services included) that reads `snapshot` instead of Genesys."""
    monkeypatch.setattr("wrapup_portal.catalog.services.snapshot_read", lambda **kwargs: snapshot)
    no_calls = SimpleNamespace(stats=SimpleNamespace(requests=0, token_requests=0))
    run = sync_run_execute(run_id=sync_run_request(trigger=SyncRun.Trigger.CLI).run.pk, client=no_calls)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def first_catalog() -> CatalogSnapshot:
    codes = {c.code_id: c for c in (code("c-sale", "Sale"), code("c-refund", "Refund"), code("c-other", "Other"))}
    return CatalogSnapshot(
        queues={"q-billing": queue("q-billing", "Billing"), "q-sales": queue("q-sales", "Sales", timeout=30000)},
        codes=codes, members={"q-billing": {"c-sale": "Sale", "c-refund": "Refund"}, "q-sales": {"c-sale": "Sale"}},
    )


def listed_changes(html: str) -> list[str]:
    """The Change column of the changes table, one entry per row listed."""
    body = html.split("<th>Change</th>", 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr><td>([^<]+)</td>", body)


def test_first_sync_lists_no_changes_and_says_what_it_copied(admin_client, monkeypatch) -> None:
    run = sync_snapshot(monkeypatch, first_catalog())
    assert (run.first_sync, run.queues_copied, run.codes_copied) == (True, 2, 3)
    assert not SyncChange.objects.filter(run=run).exists()  # a baseline, not 5 "added" rows of drift
    assert (run.added, run.changed, run.retired) == (0, 0, 0)
    page = admin_client.get(f"/catalog/runs/{run.pk}/").content.decode()
    assert "First sync: 2 queues and 3 codes copied" in page and "<h2>Changes</h2>" not in page
    drift = admin_client.get("/catalog/drift/").content.decode()
    assert "No sync has found any change in Genesys yet" in drift and "2 queues and 3 codes" in drift
    history = admin_client.get("/catalog/runs/").content.decode()
    assert "first sync: 2 queues and 3 codes copied" in history
    finished = AuditEvent.objects.get(action=Action.SYNC_FINISHED)
    assert finished.extra["first_sync"] is True and finished.extra["codes_copied"] == 3


def test_drift_shows_names_and_readable_values_and_its_counts_add_up(admin_client, monkeypatch) -> None:
    sync_snapshot(monkeypatch, first_catalog())
    later = first_catalog()
    # Billing moves division and gets a time-boxed prompt; Sales loses its timeout; a code with
    # no description appears and joins Billing; Other is renamed; Refund leaves Billing.
    later.queues["q-billing"] = queue("q-billing", "Billing", division=DIVISION_SUPPORT, prompt="MANDATORY_TIMEOUT", timeout=60000)
    later.queues["q-sales"] = queue("q-sales", "Sales", timeout=None)
    later.codes["c-new"] = code("c-new", "Callback")
    later.codes["c-other"] = code("c-other", "Other reason")
    later.members["q-billing"] = {"c-sale": "Sale", "c-new": "Callback"}
    run = sync_snapshot(monkeypatch, later)

    html = admin_client.get("/catalog/drift/").content.decode()
    rows = listed_changes(html)
    assert sorted(rows) == sorted(["Code added", "Code renamed", "Queue settings changed", "Queue settings changed",
                                   "Code added to queue", "Code removed from queue"])
    # The header's counts are the rows listed: 1 added, 5 changed, 0 retired.
    assert (run.added, run.changed, run.retired) == (1, 5, 0)
    assert f"({run.added} added, {run.changed} changed, {run.retired} retired)" in html
    assert run.added + run.changed + run.retired == len(rows)
    # Readable values, never the raw fields.
    for raw in ("division_id", "division_name", "acw_timeout_ms", "wrapup_prompt:", "None", DIVISION_SUPPORT, "MANDATORY_TIMEOUT"):
        assert raw not in html, raw
    assert "Division:</span> Home" in html and "Division:</span> Support" in html
    assert "Wrap-up prompt:</span> Mandatory, time-boxed" in html and "Wrap-up prompt:</span> Mandatory<" in html
    assert "ACW timeout:</span> 60 s" in html and "ACW timeout:</span> 30 s" in html
    assert "ACW timeout:</span> none" in html  # Billing had none before, Sales has none after
    assert "Description:</span> none" in html  # the new code has no description
    assert "Name:</span> Other<" in html and "Name:</span> Other reason" in html


def test_a_search_that_matches_nothing_says_so(admin_client, monkeypatch) -> None:
    sync_snapshot(monkeypatch, first_catalog())
    html = admin_client.get("/catalog/", {"q": "Payroll"}).content.decode()
    assert "No queue matches “Payroll”" in html
    assert "No code groups yet" not in html and "Sync now</em>" not in html


def test_a_search_over_200_characters_is_a_form_error_not_every_queue(admin_client, monkeypatch) -> None:
    sync_snapshot(monkeypatch, first_catalog())
    response = admin_client.get("/catalog/", {"q": "B" * 201})
    html = response.content.decode()
    assert response.context["form"].errors["q"]
    assert "at most 200 characters" in html
    assert list(response.context["page"]) == [] and "Billing" not in html and "Sales" not in html
    assert admin_client.get("/catalog/").status_code == 200  # the refused search is not remembered


@pytest.mark.parametrize(("beat_age", "warned"), [(5, False), (3600, True), (None, True)],
                         ids=["fresh heartbeat", "stale heartbeat", "no heartbeat"])
def test_a_queued_run_asks_about_the_worker_only_when_the_heartbeat_is_stale(admin_client, beat_age, warned) -> None:
    if beat_age is not None:
        Heartbeat.objects.create(name=CLUSTER_HEARTBEAT, beat_at=timezone.now() - timedelta(seconds=beat_age))
    run = SyncRun.objects.create(trigger="manual", status=SyncRun.Status.QUEUED, lock=True)
    for headers in ({}, {"HX-Request": "true"}):  # the page and its polled fragment
        html = admin_client.get(f"/catalog/runs/{run.pk}/", headers=headers).content.decode()
        assert ("is <code>qcluster</code> running?" in html) is warned
        assert ("Queued: a background worker starts it in a moment." in html) is not warned
