"""Each role's overview in a real browser, an admin's rule coding a new leg, and every role kept out of
the others' pages. Screenshots go to tests/browser/screenshots/; docs/screenshots/ keeps the best ones.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from wrapup_portal.accounts.models import QueueGrant
from wrapup_portal.assignments import events, tasks
from wrapup_portal.assignments.models import Assignment, Source, State
from wrapup_portal.catalog.models import CodeGroup, SyncRun
from wrapup_portal.catalog.tasks import sync_run_execute_task

from tests.browser.conftest import screenshot, sign_in
from tests.interactions.conftest import sandbox_now

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

HOOK_SECRET = "journey-webhook-secret"


@pytest.fixture
def made(synced: Any) -> Any:
    """Conversations created here are ended afterwards; the sandbox's clock is brought up to the wall clock."""
    sandbox, ids = synced, []
    drift = (timezone.now() - sandbox_now(sandbox)).total_seconds()
    if drift > 0:
        sandbox.clock(advance_seconds=drift)
    yield ids
    sandbox.configure(webhook_url=None)
    sandbox.reset()
    for cid in ids:
        sandbox.advance(cid, to="ended")


def grant_lead(queue_ids: list[str]) -> None:
    lead = User.objects.get(username="lead")
    for group in CodeGroup.objects.filter(queue_id__in=queue_ids):
        QueueGrant.objects.create(user=lead, code_group=group)


def numbers(page: Any, heading: str) -> dict[str, list[str]]:
    """The 'Numbers' table under a section's heading, opened as a user would: first cell -> the others."""
    section = page.locator("section", has=page.locator(f"h2:text-is('{heading}')"))
    section.locator("summary").first.click()
    rows = section.locator("details table").first.locator("tbody tr")
    return {cells[0]: cells[1:] for cells in (rows.nth(i).locator("td, th").all_inner_texts() for i in range(rows.count()))}


def test_lead_sees_their_queues_in_charts_and_follows_a_bar_to_the_time_outs(synced: Any, made: list[str], utc_page: Any) -> None:
    sandbox, page = synced, utc_page
    queues = [q for q in sandbox.org()["queues"] if q["wrapupPrompt"] == "MANDATORY_TIMEOUT"][:2]
    grant_lead([q["id"] for q in queues])
    for _ in range(3):
        made.append(sandbox.create_conversation(queueId=queues[0]["id"], state="acw", startedSecondsAgo=120)["id"])
    Assignment.objects.create(conversation_id="c", participant_id="p", queue_id=queues[0]["id"], code_id="k",
                              code_name="Sale", source=Source.RULE, state=State.APPLIED, next_attempt_at=timezone.now(),
                              finished_at=timezone.now())  # fmt: skip

    sign_in(page, "lead")

    assert page.locator("svg#chart-acw").is_visible() and page.locator("svg#chart-timeouts").is_visible()
    in_acw = numbers(page, "In after-call work now")
    assert set(in_acw) == {q["name"] for q in queues}
    assert int(in_acw[queues[0]["name"]][0]) >= 3
    assert page.locator(".tile-number").first.inner_text() == str(sum(int(v[0]) for v in in_acw.values()))
    assert numbers(page, "Codes the portal applied today")["Rule"] == ["1"]
    screenshot(page, "overview-lead")

    page.locator("svg#chart-timeouts a").first.click()
    page.wait_for_selector("h1:text('Interactions')")
    assert "wrapup=timeout" in page.url and "queue=" in page.url
    assert page.locator("select[name=wrapup]").input_value() == "timeout"


def test_admin_syncs_two_queues_creates_a_rule_and_the_next_leg_in_acw_gets_its_code(synced: Any, made: list[str], utc_page: Any,
                                                                    live_server: Any, settings: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    sandbox, page = synced, utc_page
    settings.WRAPUP_WEBHOOK_SECRET = HOOK_SECRET
    queued: list[int] = []
    monkeypatch.setattr(events, "event_enqueue", queued.append)  # the test runs the task, as the cluster would
    queue = next(q for q in sandbox.org()["queues"] if q["wrapupPrompt"] == "MANDATORY")
    group = CodeGroup.objects.get(queue_id=queue["id"])
    code = group.codes.order_by("name").first()

    sign_in(page, "admin")
    assert "No rules yet." in page.locator("section", has=page.locator("h2:text-is('Rule activity today')")).inner_text()
    # Two queues kept in sync, the rule's among them, and a sync of just those.
    other = CodeGroup.objects.exclude(pk=group.pk).order_by("name").first()
    page.click("nav.main a:text('Code catalog')")
    for chosen in (group, other):
        page.check(f"input[value='{chosen.queue_id}']")
    page.click("button:text('Sync selected queues')")
    page.wait_for_selector("text=2 queue(s) updated.")
    page.click("button:text('Sync now')")
    page.wait_for_selector("text=Waiting for a background worker")
    run = SyncRun.objects.get(status=SyncRun.Status.QUEUED)
    sync_run_execute_task(run.pk)  # what the cluster would do
    run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED
    assert set(CodeGroup.objects.filter(synced=True)) == {group, other}  # what a run without named queues reads
    page.click("nav.main a:text('Rules')")
    page.click("a.button:text('New rule')")
    page.fill("#id_name", "Sales queue: Sale")
    page.select_option("#id_queue", label=group.name)
    page.select_option("#id_code", label=code.name)
    page.click("button[type=submit]:text('Save')")
    page.wait_for_selector("h1:text('Auto-assign rules')")
    assert page.locator("tr", has_text="Sales queue: Sale").locator("td.coded").inner_text() == "0"

    sandbox.configure(webhook_url=f"{live_server.url}/hooks/genesys/events", webhook_secret=HOOK_SECRET)
    conversation = sandbox.create_conversation(queueId=queue["id"], state="connected", startedSecondsAgo=60)
    made.append(conversation["id"])
    leg = next(p for p in conversation["participants"] if p["purpose"] == "agent")
    sandbox.advance(conversation["id"])  # the agent hangs up: ACW begins, user.end goes to the hook
    deadline = time.monotonic() + 10
    while not queued and time.monotonic() < deadline:
        time.sleep(0.1)
    assert queued, "the sandbox's user.end never reached the portal's hook"
    time.sleep(0.2)  # the server thread finishes its request before this thread uses the database
    sandbox.configure(webhook_url=None)  # the code ends ACW; its acw event is not needed here
    tasks.events_process_task(queued[0])

    token = sandbox.token()
    wrapup = sandbox.api("GET", f"/api/v2/conversations/{conversation['id']}/participants/{leg['id']}/wrapup", token=token).json()
    assert wrapup["code"] == code.code_id
    page.reload()
    assert page.locator("tr", has_text="Sales queue: Sale").locator("td.coded").inner_text() == "1"
    page.click("a.brand")
    assert numbers(page, "Rule activity today")["Sales queue: Sale"] == ["yes", "1", "0"]
    assert numbers(page, "Codes the portal applied today")["Rule"] == ["1"]
    assert page.locator("svg#chart-rules").is_visible()
    screenshot(page, "overview-admin")


def test_compliance_sees_events_per_day_and_the_chain_and_opens_the_log(synced: Any, utc_page: Any) -> None:
    page = utc_page
    sign_in(page, "compliance")
    assert page.locator("svg#chart-audit").is_visible()
    today = timezone.now().strftime("%d %b")
    per_day = numbers(page, "Audit events per day")
    assert len(per_day) == 14 and sum(int(n) for n in per_day[today]) > 0  # the sync and the sign-ins of today
    assert page.locator("#chain-status").is_visible()
    assert page.locator("svg#chart-timeouts").count() == 0  # no queues' figures for compliance
    screenshot(page, "overview-compliance")
    page.click("text=Open the audit log")
    page.wait_for_selector("h1:text('Audit log')")


FORBIDDEN = {
    "lead": ["/audit/", "/catalog/", "/rules/", "/system/", "/accounts/grants/", "/admin/"],
    "admin": ["/audit/", "/audit/export/?format=csv"],
    "compliance": ["/interactions/", "/interactions/live/", "/assignments/", "/assignments/upload/", "/catalog/", "/rules/",
                   "/system/"],
}


@pytest.mark.parametrize("username", sorted(FORBIDDEN))
def test_each_role_is_refused_the_other_roles_pages(synced: Any, page: Any, username: str) -> None:
    sign_in(page, username)
    for url in FORBIDDEN[username]:
        response = page.goto(url)
        assert response.status == 403, url
        assert page.locator("h1").inner_text() == "Not allowed", url
        assert page.locator("a:text('Back to the overview')").is_visible()


def test_a_keyboard_user_skips_to_the_content_and_sees_where_the_focus_is(synced: Any, page: Any) -> None:
    sign_in(page, "lead")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    assert skip.evaluate("el => el === document.activeElement") and skip.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")
    # Every control on the page has a name a screen reader can say.
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
        .map(el => el.outerHTML)""")
    assert unlabelled == []
