"""Catalog sync against the sandbox over real HTTP."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django_q.models import Schedule

from tests.catalog.conftest import pages
from wrapup_portal.audit.models import Action, AuditEvent
from wrapup_portal.catalog import apply as apply_module
from wrapup_portal.catalog.models import CodeGroup, Membership, SyncChange, SyncRun, WrapupCode
from wrapup_portal.catalog.services import BAD_CREDENTIALS, UNKNOWN_QUEUES, sync_run_execute, sync_run_request
from wrapup_portal.catalog.tasks import catalog_sync_scheduled, sync_run_execute_task
from wrapup_portal.core.genesys import build_genesys_client

pytestmark = [pytest.mark.django_db, pytest.mark.integration]


def run_sync(**kwargs) -> SyncRun:
    request = sync_run_request(trigger=SyncRun.Trigger.CLI, **kwargs)
    return sync_run_execute(run_id=request.run.pk, client=build_genesys_client())


def active_codes(org: dict) -> dict[str, str]:
    return {c["id"]: c["name"] for c in org["codes"] if not c["deleted"]}


def catalog_rows() -> tuple[int, int, int]:
    return WrapupCode.objects.count(), CodeGroup.objects.count(), Membership.objects.count()


def test_first_sync_copies_queues_codes_and_memberships(genesys) -> None:
    org = genesys.org()
    run = run_sync()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    codes = active_codes(org)
    assert dict(WrapupCode.objects.values_list("code_id", "name")) == codes
    assert set(CodeGroup.objects.values_list("queue_id", flat=True)) == {q["id"] for q in org["queues"]}
    for queue in org["queues"]:
        group = CodeGroup.objects.get(queue_id=queue["id"])
        assert group.name == queue["name"] and group.wrapup_prompt == queue["wrapupPrompt"]
        expected = {c for c in queue["codeIds"] if c in codes}
        assert set(group.codes.values_list("code_id", flat=True)) == expected
    # The first sync copies the catalog: it says how much, and lists no "added" drift.
    assert (run.first_sync, run.queues_copied, run.codes_copied) == (True, len(org["queues"]), len(codes))
    assert (run.added, run.changed, run.retired) == (0, 0, 0) and not SyncChange.objects.filter(run=run).exists()


def test_first_sync_makes_no_more_api_calls_than_pages_require(genesys) -> None:
    org = genesys.org()
    run = run_sync()
    expected = pages(len(org["queues"])) + pages(len(active_codes(org))) + sum(
        pages(len([c for c in q["codeIds"] if c in active_codes(org)])) for q in org["queues"]
    )
    assert run.api_calls == expected
    api_requests = [r for r in genesys.requests() if r["path"].startswith("/api/v2/")]
    assert len(api_requests) == expected
    assert all("pageSize=100" in r["path"] for r in api_requests)


def test_second_unchanged_sync_writes_zero_rows(genesys) -> None:
    run_sync()
    before = catalog_rows()
    second = run_sync()
    assert second.status == SyncRun.Status.SUCCEEDED
    assert (second.added, second.changed, second.retired, second.rows_written) == (0, 0, 0, 0)
    assert not SyncChange.objects.filter(run=second).exists()
    assert catalog_rows() == before


def test_each_run_writes_one_started_and_one_finished_event(genesys) -> None:
    run = run_sync()
    events = AuditEvent.objects.filter(target_kind="sync_run", target_id=str(run.pk))
    assert sorted(events.values_list("action", flat=True)) == sorted([Action.SYNC_STARTED, Action.SYNC_FINISHED])
    assert events.get(action=Action.SYNC_STARTED).actor_kind == "cli"


def test_only_selected_queues_have_their_codes_read(genesys) -> None:
    run_sync()
    chosen = list(CodeGroup.objects.order_by("name")[:2])
    CodeGroup.objects.filter(pk__in=[g.pk for g in chosen]).update(synced=True)
    genesys.reset()
    run = run_sync()
    paths = [r["path"].split("?")[0] for r in genesys.requests()]
    read = {p for p in paths if p.endswith("/wrapupcodes") and "/queues/" in p}
    assert read == {f"/api/v2/routing/queues/{g.queue_id}/wrapupcodes" for g in chosen}
    assert run.api_calls == 2 + len(chosen)


def test_sync_catalog_command_with_queue_prints_a_summary(genesys) -> None:
    queue = genesys.org()["queues"][0]
    out = StringIO()
    call_command("sync_catalog", "--queue", queue["id"], stdout=out)
    assert "succeeded" in out.getvalue() and "API calls" in out.getvalue()
    run = SyncRun.objects.get()
    assert run.queue_ids == [queue["id"]]
    assert Membership.objects.filter(group__queue_id=queue["id"]).exists()
    assert not Membership.objects.exclude(group__queue_id=queue["id"]).exists()


def test_unknown_queue_fails_with_its_id_and_changes_nothing(genesys) -> None:
    with pytest.raises(CommandError) as error:
        call_command("sync_catalog", "--queue", "no-such-queue", stdout=StringIO())
    assert UNKNOWN_QUEUES.format(ids="no-such-queue") in str(error.value)
    assert catalog_rows() == (0, 0, 0)
    assert SyncRun.objects.get().status == SyncRun.Status.FAILED


def test_bad_credentials_stop_the_run_with_a_clear_message(genesys, settings) -> None:
    run_sync()
    before = catalog_rows()
    settings.GENESYS_CLIENT_SECRET = "wrong-secret"
    cache.clear()  # the deployment's shared token would otherwise still be valid
    run = run_sync()
    assert run.status == SyncRun.Status.FAILED
    assert run.error.startswith(BAD_CREDENTIALS)
    assert "wrong-secret" not in run.error
    assert catalog_rows() == before
    failed = AuditEvent.objects.get(action=Action.SYNC_FAILED, target_id=str(run.pk))
    assert "wrong-secret" not in failed.reason


def test_faults_mid_sync_are_waited_out(genesys) -> None:
    genesys.configure(error_rate=0.3)
    run = run_sync()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert genesys.stats()["injected_errors"] > 0
    org = genesys.org()
    assert WrapupCode.objects.count() == len(active_codes(org))
    assert Membership.objects.count() == sum(len([c for c in q["codeIds"] if c in active_codes(org)]) for q in org["queues"])


def test_failure_while_saving_leaves_the_previous_catalog_intact(genesys, monkeypatch) -> None:
    run_sync()
    before = catalog_rows()
    names = dict(WrapupCode.objects.values_list("code_id", "name"))
    WrapupCode.objects.filter(code_id=next(iter(names))).update(name="Stale name")

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(apply_module, "_apply_memberships", explode)
    run = run_sync()
    assert run.status == SyncRun.Status.FAILED and "disk full" in run.error
    assert catalog_rows() == before
    assert WrapupCode.objects.filter(name="Stale name").count() == 1  # the rename was rolled back
    assert not SyncChange.objects.filter(run=run).exists()


def test_a_second_request_returns_the_run_already_queued(genesys) -> None:
    first = sync_run_request(trigger=SyncRun.Trigger.MANUAL)
    second = sync_run_request(trigger=SyncRun.Trigger.SCHEDULE)
    assert first.created and not second.created
    assert second.run.pk == first.run.pk
    assert SyncRun.objects.count() == 1


def test_a_request_racing_another_gets_the_run_that_won(genesys, monkeypatch) -> None:
    from wrapup_portal.catalog import services

    winner = sync_run_request(trigger=SyncRun.Trigger.MANUAL).run
    # The loser checked for an active run before the winner's insert was visible.
    monkeypatch.setattr(services, "_active_run", lambda: None)
    loser = sync_run_request(trigger=SyncRun.Trigger.SCHEDULE)
    assert not loser.created and loser.run.pk == winner.pk
    assert SyncRun.objects.count() == 1
    assert AuditEvent.objects.filter(action=Action.SYNC_STARTED).count() == 1


def test_two_runs_can_never_hold_the_lock() -> None:
    from django.db import IntegrityError, transaction

    SyncRun.objects.create(trigger="manual", status=SyncRun.Status.RUNNING, lock=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncRun.objects.create(trigger="manual", lock=True)


def test_a_run_no_worker_picked_up_is_failed_so_syncing_can_go_on(genesys) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from wrapup_portal.catalog.services import STALE_QUEUED

    forgotten = sync_run_request(trigger=SyncRun.Trigger.MANUAL).run
    SyncRun.objects.filter(pk=forgotten.pk).update(created_at=timezone.now() - timedelta(hours=1))
    run = run_sync()
    forgotten.refresh_from_db()
    assert forgotten.status == SyncRun.Status.FAILED and forgotten.error == STALE_QUEUED and forgotten.lock is None
    assert run.status == SyncRun.Status.SUCCEEDED
    # Its task, delivered late, finds nothing to do.
    sync_run_execute_task(forgotten.pk)
    forgotten.refresh_from_db()
    assert forgotten.status == SyncRun.Status.FAILED


def test_an_abandoned_run_is_failed_and_frees_the_lock(genesys) -> None:
    from datetime import timedelta

    from django.utils import timezone

    dead = SyncRun.objects.create(trigger="manual", status=SyncRun.Status.RUNNING, lock=True,
                                  heartbeat_at=timezone.now() - timedelta(hours=1))
    run = run_sync()
    dead.refresh_from_db()
    assert dead.status == SyncRun.Status.FAILED and dead.lock is None and "Abandoned" in dead.error
    assert run.status == SyncRun.Status.SUCCEEDED
    assert AuditEvent.objects.filter(action=Action.SYNC_FAILED, target_id=str(dead.pk)).count() == 1


def test_the_task_is_safe_to_run_twice(genesys) -> None:
    request = sync_run_request(trigger=SyncRun.Trigger.MANUAL)
    sync_run_execute_task(request.run.pk)
    calls = len(genesys.requests())
    sync_run_execute_task(request.run.pk)  # django-q2 delivered it again
    assert len(genesys.requests()) == calls
    assert AuditEvent.objects.filter(action=Action.SYNC_FINISHED).count() == 1


def test_schedule_is_registered_and_runs_a_sync(genesys, settings) -> None:
    schedule = Schedule.objects.get(name="catalog.sync")
    assert schedule.func == "wrapup_portal.catalog.tasks.catalog_sync_scheduled"
    assert schedule.minutes == settings.CATALOG_SYNC_MINUTES == 15
    assert "succeeded" in catalog_sync_scheduled()
    assert SyncRun.objects.get().trigger == SyncRun.Trigger.SCHEDULE


def test_forbidden_stops_the_run_naming_the_missing_permission(genesys, monkeypatch) -> None:
    from integrations.genesys import ForbiddenError, GenesysClient

    def forbidden(self, *args, **kwargs):
        raise ForbiddenError("You are not authorized to perform the requested action.", status=403,
                             code="not.authorized", correlation_id="corr-403")

    monkeypatch.setattr(GenesysClient, "iter_wrapup_codes", forbidden)
    run = run_sync()
    assert run.status == SyncRun.Status.FAILED
    assert "routing:wrapupCode:view" in run.error and "403" in run.error
    assert catalog_rows() == (0, 0, 0)
    assert AuditEvent.objects.get(action=Action.SYNC_FAILED).correlation_id == "corr-403"


def test_rate_limit_mid_sync_is_waited_out(genesys) -> None:
    genesys.configure(rate_limit=6, rate_window_seconds=1)
    run = run_sync()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert WrapupCode.objects.count() == len(active_codes(genesys.org()))


@pytest.fixture
def changing_org(genesys):
    """Tests that change the organisation in Genesys: rebuild it from the seed afterwards."""
    yield genesys
    genesys.reset(state=True)


def test_changes_made_in_genesys_are_found_by_the_next_sync(changing_org) -> None:
    sandbox = changing_org
    run_sync()
    queue = sandbox.org()["queues"][0]
    renamed_id, removed_id = queue["codeIds"][3], queue["codeIds"][4]
    deleted_id = next(c for c in queue["codeIds"][5:] if c not in sandbox.org()["queues"][1]["codeIds"])
    assert sandbox.api("PUT", f"/api/v2/routing/wrapupcodes/{renamed_id}", json={"name": "Renamed in Genesys"}).status_code == 200
    assert sandbox.api("DELETE", f"/api/v2/routing/queues/{queue['id']}/wrapupcodes/{removed_id}").status_code == 204
    assert sandbox.api("DELETE", f"/api/v2/routing/wrapupcodes/{deleted_id}").status_code == 204
    added = sandbox.api("POST", "/api/v2/routing/wrapupcodes", json={"name": "Added in Genesys"}).json()
    sandbox.api("POST", f"/api/v2/routing/queues/{queue['id']}/wrapupcodes", json=[{"id": added["id"]}])

    run = run_sync()
    changes = {(c.kind, c.code.code_id if c.code else None) for c in SyncChange.objects.filter(run=run)}
    assert (SyncChange.Kind.CODE_RENAMED, renamed_id) in changes
    assert (SyncChange.Kind.CODE_LEFT_QUEUE, removed_id) in changes
    assert (SyncChange.Kind.CODE_RETIRED, deleted_id) in changes
    assert (SyncChange.Kind.CODE_ADDED, added["id"]) in changes
    assert (SyncChange.Kind.CODE_JOINED_QUEUE, added["id"]) in changes
    # The counts cover every change listed: a rename, a code leaving or joining a queue are changes.
    assert (run.added, run.retired) == (1, 1) and not run.first_sync
    assert run.added + run.changed + run.retired == SyncChange.objects.filter(run=run).count()
    group = CodeGroup.objects.get(queue_id=queue["id"])
    offered = set(group.codes.values_list("code_id", flat=True))
    assert added["id"] in offered and removed_id not in offered and deleted_id not in offered
    retired = WrapupCode.objects.get(code_id=deleted_id)
    assert retired.retired_at is not None and retired.last_seen_at is not None  # kept, with its name


def test_a_queue_deleted_during_the_run_does_not_break_it(changing_org, monkeypatch) -> None:
    from integrations.genesys import GenesysClient

    sandbox = changing_org
    run_sync()
    victim = sandbox.org()["queues"][-1]
    original = GenesysClient.iter_queue_wrapup_codes
    deleted: list[str] = []
    lock = threading.Lock()  # the reader's threads all come here; only the first deletes

    def delete_then_read(self, queue_id, *args, **kwargs):
        # An admin deletes a queue in Genesys after the run listed the queues.
        with lock:
            if not deleted:
                deleted.append(victim["id"])
                assert sandbox.api("DELETE", f"/api/v2/routing/queues/{victim['id']}").status_code == 204
        return original(self, queue_id, *args, **kwargs)

    monkeypatch.setattr(GenesysClient, "iter_queue_wrapup_codes", delete_then_read)
    run = run_sync()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    group = CodeGroup.objects.get(queue_id=victim["id"])
    assert group.removed_at is not None
    assert SyncChange.objects.filter(run=run, kind=SyncChange.Kind.QUEUE_REMOVED, group=group).exists()
    assert CodeGroup.objects.filter(removed_at__isnull=True).count() == len(sandbox.org()["queues"]) - 1


def test_without_genesys_settings_nothing_is_queued_and_a_queued_run_fails_saying_what_to_set(db, settings) -> None:
    settings.GENESYS_API_URL = settings.GENESYS_LOGIN_URL = ""
    settings.GENESYS_CLIENT_ID = settings.GENESYS_CLIENT_SECRET = ""

    with pytest.raises(CommandError, match="Genesys not configured: set GENESYS_REGION"):
        call_command("sync_catalog")
    assert catalog_sync_scheduled().startswith("skipped: Genesys not configured")
    assert not SyncRun.objects.exists()

    queued = sync_run_request(trigger=SyncRun.Trigger.MANUAL)  # "Sync now" pressed before the settings were fixed
    run = sync_run_execute(run_id=queued.run.pk)
    assert run.status == SyncRun.Status.FAILED
    assert run.error.startswith("Genesys not configured: set GENESYS_REGION")
    assert run.lock is None  # the next run may go ahead
