"""A team lead's interactions journeys in a real browser: yesterday's time-outs, the live board, scoping.

The sandbox's clock stands still (tests move it), while the portal and the browser count real
time; the board's countdowns compare the two, so the board journey first brings the sandbox
up to the wall clock. Screenshots go to tests/browser/screenshots/ (or $PORTAL_SCREENSHOTS).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from django.contrib.auth.models import User
from django.utils import timezone

from integrations.genesys import WRAP_UP_TIMEOUT
from wrapup_portal.accounts.models import QueueGrant
from wrapup_portal.catalog.models import CodeGroup
from wrapup_portal.interactions.search import WrapupState

from tests.browser.conftest import screenshot, sign_in
from tests.interactions.conftest import api_calls, ground_truth, sandbox_now, yesterday

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

COUNTDOWN = re.compile(r"^(\d+):(\d\d) left$")
IN_ACW_ROWS = "section[aria-label='In after-call work'] tbody tr"
RESULT_ROWS = "table.results tbody tr"


@pytest.fixture
def lead_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A browser page in UTC, so "yesterday" means the same day to the portal and to the ground truth."""
    context = browser.new_context(base_url=live_server.url, timezone_id="UTC")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def ended(synced: Any) -> Iterator[list[str]]:
    """Conversations created here are ended afterwards, so no ACW timer of theirs fires in another test."""
    made: list[str] = []
    yield made
    synced.reset()
    for cid in made:
        synced.advance(cid, to="ended")


def grant(queue_ids: list[str]) -> None:
    lead = User.objects.get(username="lead")
    for group in CodeGroup.objects.filter(queue_id__in=queue_ids):
        QueueGrant.objects.create(user=lead, code_group=group)


def shown_legs(page: Any) -> set[tuple[str, str]]:
    values = page.locator(f"{RESULT_ROWS} input[name=leg]").evaluate_all("boxes => boxes.map(b => b.value)")
    return {tuple(value.split("/")) for value in values}  # type: ignore[misc]


def test_lead_finds_yesterdays_timeouts_on_a_queue_in_two_clicks_and_opens_one(synced: Any, lead_page: Any) -> None:
    sandbox, page = synced, lead_page
    rows = ground_truth(sandbox, *yesterday(sandbox))
    timeouts = [r for r in rows if r["wrapupCode"] == WRAP_UP_TIMEOUT]
    mine = [queue for queue, _ in Counter(r["queueId"] for r in timeouts).most_common(2)]
    assert len(mine) == 2, "the sandbox's history should have time-outs on at least two queues yesterday"
    grant(mine)
    target = CodeGroup.objects.get(queue_id=mine[0])
    expected = {(r["conversationId"], r["participantId"]) for r in timeouts if r["queueId"] == target.queue_id}
    sign_in(page, "lead")

    page.click("nav.main >> text=Interactions")  # click 1
    quick = page.locator("nav[aria-label='Quick searches']")
    names = set(CodeGroup.objects.filter(queue_id__in=mine).values_list("name", flat=True))
    assert set(quick.locator("p:has-text('Yesterday') a").all_inner_texts()) == {"all your queues"} | names
    quick.locator(f"a:text-is('{target.name}')").click()  # click 2: yesterday's time-outs on that queue
    page.wait_for_selector(RESULT_ROWS)
    screenshot(page, "interactions-yesterdays-timeouts")

    assert "{#" not in page.inner_text("main")  # no template comment leaking into the page
    assert page.input_value("#id_preset") == "yesterday"  # the form shows what the link chose
    assert page.input_value("#id_wrapup") == WrapupState.TIMEOUT
    assert page.locator("#id_queue option:checked").all_inner_texts() == [target.name]
    assert shown_legs(page) == expected
    assert set(page.locator(f"{RESULT_ROWS} td:nth-child(4)").all_inner_texts()) == {target.name}
    assert set(page.locator(f"{RESULT_ROWS} td:nth-child(7)").all_inner_texts()) == {"Timed out (no code chosen)"}

    conversation_id, participant_id = sorted(expected)[0]
    page.click(f"{RESULT_ROWS} a[href='/interactions/{conversation_id}/']")
    page.wait_for_selector(f"h1:has-text('{conversation_id}')")
    screenshot(page, "interactions-detail")
    leg = page.locator(f"tr#leg-{participant_id}")
    assert target.name in leg.inner_text()
    assert "Timed out (no code chosen)" in leg.inner_text() and "ACW timed out" in leg.inner_text()
    wrapups = page.locator("ol.timeline li.seg-wrapup").all_inner_texts()
    assert any("· wrapup" in entry and target.name in entry and "Timed out" in entry for entry in wrapups), wrapups


def test_live_board_counts_down_and_picks_up_a_new_leg(synced: Any, lead_page: Any, ended: list[str]) -> None:
    sandbox, page = synced, lead_page
    # The longest timed ACW, so the countdown has well over the test's length to run.
    queue = max((q for q in sandbox.org()["queues"] if q["wrapupPrompt"] == "MANDATORY_TIMEOUT"),
                key=lambda q: q["timeoutMs"])  # fmt: skip
    grant([queue["id"]])
    drift = (timezone.now() - sandbox_now(sandbox)).total_seconds()
    if drift > 0:  # the ACW starts at the sandbox's now: make that the wall clock's now
        sandbox.clock(advance_seconds=drift)
    # A sandbox ahead of the wall clock (another test moved it) still starts its conversations in the past.
    ago = 300 + max(0.0, -drift)
    agents = {a["id"]: a["name"] for a in sandbox.org()["agents"]}
    first = sandbox.create_conversation(queueId=queue["id"], state="acw", startedSecondsAgo=ago)
    ended.append(first["id"])
    sign_in(page, "lead")

    page.goto("/interactions/live/")
    row = page.locator(IN_ACW_ROWS, has=page.locator(f"a[href^='/interactions/{first['id']}/']"))
    row.wait_for()
    shown = page.locator(IN_ACW_ROWS).count()  # 1, unless an earlier test left a leg in ACW on this queue
    first_agent = next(p for p in first["participants"] if p["purpose"] == "agent")
    assert queue["name"] in row.inner_text() and agents[first_agent["userId"]] in row.inner_text()
    countdown = row.locator(".countdown")
    expect(countdown).to_have_text(COUNTDOWN)  # not wait_for_function: its eval is refused by the page's CSP
    before = countdown.inner_text()
    page.wait_for_timeout(2_100)
    after = countdown.inner_text()
    screenshot(page, "interactions-live-board")
    seconds = [int(m[1]) * 60 + int(m[2]) for m in (COUNTDOWN.match(t) for t in (before, after)) if m]
    assert len(seconds) == 2 and 1 <= seconds[0] - seconds[1] <= 5, (before, after)  # 2 s, give or take a busy CI
    assert seconds[0] <= queue["timeoutMs"] / 1000

    second = sandbox.create_conversation(queueId=queue["id"], state="acw", startedSecondsAgo=ago)
    ended.append(second["id"])
    created = time.monotonic()
    # The next 5 s poll brings it: the board's cache entries (5 s too) from the page load have expired by then.
    page.locator(f"{IN_ACW_ROWS} a[href^='/interactions/{second['id']}/']").wait_for(timeout=7_500)
    assert time.monotonic() - created < 7.5
    assert page.locator(IN_ACW_ROWS).count() == shown + 1
    assert page.locator(f"{IN_ACW_ROWS} .countdown").count() == shown + 1
    screenshot(page, "interactions-live-board-refreshed")


def test_lead_cannot_see_a_queue_not_granted(synced: Any, lead_page: Any) -> None:
    sandbox, page = synced, lead_page
    mine, other = sandbox.org()["queues"][:2]
    grant([mine["id"]])
    theirs = sandbox.create_conversation(queueId=other["id"], state="ended")  # over: no timer left running
    sign_in(page, "lead")

    before = api_calls(sandbox)
    page.goto(f"/interactions/?preset=yesterday&queue={other['id']}")
    error = page.locator("#id_queue-errors")
    assert f"{other['id']} is not one of the available choices" in error.inner_text()
    assert page.locator("section[aria-label=Results]").count() == 0
    assert other["name"] not in page.locator("#id_queue").inner_text()  # not even offered
    assert api_calls(sandbox) == before  # refused before any Genesys call
    screenshot(page, "interactions-queue-not-granted")

    response = page.goto(f"/interactions/{theirs['id']}/")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    assert other["name"] not in page.content()
    screenshot(page, "interactions-detail-not-found")
