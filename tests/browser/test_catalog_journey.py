"""An admin's catalog journey in a real browser: sync, watch progress, choose queues, see codes."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from wrapup_portal.accounts.services import demo_password
from wrapup_portal.catalog.models import CodeGroup, SyncRun
from wrapup_portal.catalog.tasks import sync_run_execute_task

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def run_queued_sync() -> SyncRun:
    """Do what the cluster would: execute the run the page queued."""
    run = SyncRun.objects.get(status=SyncRun.Status.QUEUED)
    sync_run_execute_task(run.pk)
    run.refresh_from_db()
    return run


def test_admin_syncs_chooses_two_queues_and_sees_their_codes(page, genesys) -> None:
    call_command("seed_demo", stdout=StringIO())
    page.goto("/accounts/login/?next=/catalog/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", demo_password("admin"))
    page.click("button[type=submit]")
    page.wait_for_selector("h1:text('Code catalog')")
    assert "No code groups yet" in page.inner_text("table")

    page.click("button:text('Sync now')")
    # No cluster runs here (no heartbeat), so the queued run rightly asks whether qcluster runs.
    page.wait_for_selector("text=Waiting for a background worker")
    run = run_queued_sync()
    assert run.status == SyncRun.Status.SUCCEEDED
    # The page polls; once the run is done it shows the result: a first sync copies the
    # catalog, so it says how much instead of listing every queue and code as "added".
    page.wait_for_selector("text=This first sync copied the catalog")
    assert f"First sync: {CodeGroup.objects.count()} queues and {run.codes_copied} codes copied" in page.inner_text("#progress")
    assert page.locator("td", has_text="Queue added").count() == 0

    page.click("text=Code catalog")
    chosen = list(CodeGroup.objects.order_by("name")[:2])
    for group in chosen:
        page.check(f"input[value='{group.queue_id}']")
    page.click("button:text('Sync selected queues')")
    page.wait_for_selector("text=2 queue(s) updated.")
    assert set(CodeGroup.objects.filter(synced=True)) == set(chosen)

    page.click("button:text('Sync now')")
    page.wait_for_selector("text=Waiting for a background worker")
    second = run_queued_sync()
    page.wait_for_selector("text=nothing was written")
    assert second.rows_written == 0

    page.click("text=Code catalog")
    page.click(f"a:text('{chosen[0].name}')")
    page.wait_for_selector(f"h1:text('{chosen[0].name}')")
    shown = set(page.locator("tbody td:first-child").all_inner_texts())
    assert shown == set(chosen[0].codes.values_list("name", flat=True)) and shown
