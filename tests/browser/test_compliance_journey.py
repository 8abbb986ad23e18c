"""A compliance officer's journey: filter the log, export what is on screen, check the export."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from wrapup_portal.audit.models import Action, AuditEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_compliance_filters_exports_and_the_export_checks_out(page, browser, live_server, tmp_path: Path) -> None:
    call_command("seed_demo", stdout=StringIO())
    sign_in(page, "lead")
    page.click("text=Sign out")
    sign_in(page, "compliance")

    page.click("text=Audit log")
    page.wait_for_selector("h1:text('Audit log')")
    page.select_option("select[name=action]", Action.SIGN_IN)
    page.click("button:text('Filter')")  # htmx swaps the results in place
    expect(page.locator("#results tbody tr")).to_have_count(2)  # not wait_for_function: the CSP refuses its eval
    assert set(page.locator("#results tbody td:nth-child(4)").all_inner_texts()) == {"Signed in"}

    with page.expect_download() as download_info:
        page.click("#results a:text('CSV')")
    export = tmp_path / "export.csv"
    download_info.value.save_as(export)
    lines = export.read_text().splitlines()
    assert len(lines) == 1 + 2 + 1  # header, the two sign-ins on screen, the manifest
    out = StringIO()
    call_command("verify_export", str(export), stdout=out)
    assert "OK" in out.getvalue()
    assert AuditEvent.objects.filter(action=Action.EXPORT_DOWNLOADED, actor_username="compliance").count() == 1
