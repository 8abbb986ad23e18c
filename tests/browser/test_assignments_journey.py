"""A team lead assigns codes in a real browser: many legs in ACW at once, then one leg from the live board.

The live server runs in this process, so the engine does too: ``assignment_enqueue`` is
replaced by a background thread that runs ``assignment_execute`` for each id. The test database
is SQLite in memory (shared cache), whose table locks do not wait as a file's do, so that
thread and the server's requests take turns: a lock held for a request, or for one step.
Screenshots go to tests/browser/screenshots/ (or $PORTAL_SCREENSHOTS).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.signals import request_finished, request_started
from django.utils import timezone

from wrapup_portal.accounts.models import QueueGrant
from wrapup_portal.assignments import services
from wrapup_portal.assignments.engine import assignment_execute, assignments_due
from wrapup_portal.assignments.models import Assignment, BulkJob, State
from wrapup_portal.catalog.models import CodeGroup, WrapupCode

from tests.browser.conftest import screenshot, sign_in
from tests.interactions.conftest import sandbox_now

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# The search shows 100 conversations a page and a selection is one page's: 200 legs are two rounds, two jobs.
LEGS = int(os.environ.get("PORTAL_JOURNEY_LEGS", 200))
PAGE = 100
RESULT_ROWS = "table.results tbody tr"


@pytest.fixture
def queue(synced: Any) -> dict[str, Any]:
    """A queue without an ACW time-out (legs stay in ACW however long the test takes), granted to the lead."""
    chosen = next(q for q in synced.org()["queues"] if q["wrapupPrompt"] == "MANDATORY")
    lead = User.objects.get(username="lead")
    QueueGrant.objects.create(user=lead, code_group=CodeGroup.objects.get(queue_id=chosen["id"]))
    return chosen


@pytest.fixture
def make_legs(synced: Any) -> Iterator[Callable[[int], list[tuple[str, str]]]]:
    """Conversations in ACW started just before the wall clock's now (the search ends there); ended afterwards."""
    sandbox, made = synced, []
    drift = (timezone.now() - sandbox_now(sandbox)).total_seconds()
    if drift > 0:  # the sandbox's clock stands still while tests run: bring it up to now
        sandbox.clock(advance_seconds=drift)
    ago = 300 + max(0.0, -drift)

    def make(count: int, queue_id: str) -> list[tuple[str, str]]:
        legs = []
        for _ in range(count):
            conversation = sandbox.create_conversation(queueId=queue_id, state="acw", startedSecondsAgo=ago)
            made.append(conversation["id"])
            agent = next(p for p in conversation["participants"] if p["purpose"] == "agent")
            legs.append((conversation["id"], agent["id"]))
        return legs

    yield make
    sandbox.reset()
    for cid in made:
        sandbox.advance(cid, to="ended")


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch, live_server: Any) -> Iterator[list[threading.Thread]]:
    """``assignment_enqueue`` runs the engine in a background thread, taking turns with the server's requests."""
    turn = threading.Lock()
    holders: set[int] = set()

    def request_begins(**_: Any) -> None:
        turn.acquire()
        holders.add(threading.get_ident())

    def request_ends(**_: Any) -> None:
        if threading.get_ident() in holders:
            holders.discard(threading.get_ident())
            turn.release()

    def work(ids: Sequence[int]) -> None:
        for pk in ids:
            with turn:
                assignment_execute(assignment_id=pk)
            time.sleep(0.01)  # a worker's pace, give or take: the job page sees the job under way

    threads: list[threading.Thread] = []

    def enqueue(ids: Sequence[int]) -> None:
        thread = threading.Thread(target=work, args=(list(ids),), name="engine", daemon=True)
        threads.append(thread)
        thread.start()

    request_started.connect(request_begins, dispatch_uid="journey-turns-begin")
    request_finished.connect(request_ends, dispatch_uid="journey-turns-end")
    monkeypatch.setattr(services, "assignment_enqueue", enqueue)
    # A bulk job is fed to the cluster chunk by chunk; here its due rows go to the thread at once.
    monkeypatch.setattr(services, "assignment_feed", lambda **kwargs: enqueue(assignments_due()) or 0)
    yield threads
    request_started.disconnect(dispatch_uid="journey-turns-begin")
    request_finished.disconnect(dispatch_uid="journey-turns-end")
    for thread in threads:
        thread.join(timeout=30)


@pytest.fixture
def lead_page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, timezone_id="UTC")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def carried(sandbox: Any, cid: str, pid: str, token: str) -> str | None:
    wrapup = sandbox.api("GET", f"/api/v2/conversations/{cid}/participants/{pid}/wrapup", token=token).json()
    return (wrapup or {}).get("code")


def assign_one_page(page: Any, code_name: str, expected: int, *, shot: str, every: bool = False) -> tuple[int, float]:
    """Select every leg on the results page (``every``: every leg the search finds, all pages), preview,
    confirm, watch the job to 100%: (job id, seconds to finish)."""
    if not every:
        page.locator("input[data-select-all]").check()
        assert page.locator(f"{RESULT_ROWS} input[name=leg]:checked").count() == expected
    page.select_option("#bulk_code", label=code_name)
    page.fill("#bulk_reason", "Morning clean-up")
    page.click("form#bulk button:text('Preview every leg this search finds')" if every else "form#bulk button:text-is('Preview')")
    page.wait_for_selector("h1:has-text('Preview')")
    summary = page.locator("section[aria-label=Summary]").inner_text()
    assert f"{expected} will apply" in summary, summary
    assert "cannot" not in summary
    if shot:
        screenshot(page, f"assignments-{shot}-preview", full_page=False)

    started = time.monotonic()
    page.click(f"button:text('Confirm: queue {expected} assignments')")
    page.wait_for_selector("h1:has-text('Bulk job')")
    job_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    first = int(page.locator("#progress .finished").inner_text().split(" of ")[0])
    assert first < expected and page.locator("#progress").get_attribute("hx-trigger") == "every 2s"
    page.evaluate("window.sameDocument = true")  # gone if anything but htmx swaps brought the 100%
    if shot:
        screenshot(page, f"assignments-{shot}-progress", full_page=False)
    # The fragment is swapped every 2 s; the last one says "done" and carries no trigger any more.
    page.wait_for_selector(f"#progress:has-text('{expected} of {expected} finished')", timeout=60_000)
    finished = time.monotonic() - started
    assert page.locator("#progress .percent").inner_text() == "100%"
    bar = page.locator("#progress progress")
    assert bar.get_attribute("value") == bar.get_attribute("max") == str(expected)
    assert page.locator("#progress").get_attribute("hx-trigger") is None  # polling stopped
    assert page.evaluate("window.sameDocument") is True
    assert f"{expected} Applied" in page.locator("section[aria-label=Progress]").inner_text()
    if shot:
        screenshot(page, f"assignments-{shot}-done", full_page=False)
    return job_id, finished


def test_lead_assigns_a_code_to_many_legs_in_acw_and_watches_the_jobs_finish(
    synced: Any, queue: dict[str, Any], make_legs: Any, engine: list[threading.Thread], lead_page: Any
) -> None:
    sandbox, page = synced, lead_page
    began = time.monotonic()
    legs = make_legs(LEGS, queue["id"])
    code = queue["codeIds"][1]
    code_name = WrapupCode.objects.get(code_id=code).name
    sign_in(page, "lead")

    page.click("nav.main >> text=Interactions")
    page.select_option("#id_preset", "last_7_days")
    page.select_option("#id_wrapup", "acw")
    page.select_option("#id_queue", queue["id"])
    page.click("form.filters button[type=submit]")
    page.wait_for_selector(RESULT_ROWS)
    screenshot(page, "assignments-search-in-acw", full_page=False)

    # A page shows 100 conversations; "every leg this search finds" takes all its pages into one job.
    assert page.locator(f"{RESULT_ROWS} input[name=leg]").count() == min(PAGE, LEGS)
    job_id, seconds = assign_one_page(page, code_name, LEGS, shot="bulk", every=True)
    jobs, timings = [job_id], [seconds]

    for thread in engine:
        thread.join(timeout=30)
    # Every leg carries the code in Genesys, written once; each job holds its page's legs.
    token = sandbox.token()
    assert {leg: carried(sandbox, *leg, token) for leg in legs} == {leg: code for leg in legs}
    assert all(n == 1 for key, n in sandbox.stats()["writes"].items() if tuple(key.split("/")) in set(legs))
    assert sum(BulkJob.objects.get(pk=pk).assignments.count() for pk in jobs) == LEGS
    assert set(Assignment.objects.values_list("state", flat=True)) == {State.APPLIED}
    total = time.monotonic() - began
    print(f"\n{LEGS} legs in {len(jobs)} job(s): confirm to 100% took {', '.join(f'{t:.1f} s' for t in timings)}; "
          f"whole journey {total:.1f} s")  # fmt: skip

    page.click("nav.main >> text=Assignments")
    page.wait_for_selector("h1:text('Assignments')")
    assert page.locator("section[aria-label='Recent jobs'] li").count() == len(jobs)
    screenshot(page, "assignments-list", full_page=False)


def test_lead_assigns_one_leg_from_the_live_board(
    synced: Any, queue: dict[str, Any], make_legs: Any, engine: list[threading.Thread], lead_page: Any
) -> None:
    sandbox, page = synced, lead_page
    [(cid, pid)] = make_legs(1, queue["id"])
    code = queue["codeIds"][0]
    code_name = WrapupCode.objects.get(code_id=code).name
    sign_in(page, "lead")

    page.goto("/interactions/live/")
    page.locator(f"a[href='/interactions/{cid}/#assign-{pid}']").click()
    form = page.locator(f"section#assign-{pid}")
    form.wait_for()
    offered = form.locator("select[name=code] option").all_inner_texts()
    assert set(offered) - {"(choose a code)"} == set(
        WrapupCode.objects.filter(code_id__in=queue["codeIds"]).values_list("name", flat=True))
    screenshot(page, "assignments-assign-one")
    form.locator("button:text('Assign')").click()  # no code chosen: the browser asks for one first
    assert page.url.endswith(f"#assign-{pid}") and not Assignment.objects.exists()

    form.locator("select[name=code]").select_option(label=code_name)
    form.locator("textarea[name=notes]").fill("Customer called back")
    form.locator("button:text('Assign')").click()
    page.wait_for_selector("h1:has-text('Assignment #')")
    page.wait_for_selector("#status .badge:text('Applied')", timeout=15_000)
    assert "Customer called back" in page.inner_text("main")
    screenshot(page, "assignments-assign-one-applied")
    for thread in engine:
        thread.join(timeout=30)
    assert carried(sandbox, cid, pid, sandbox.token()) == code


def test_lead_uploads_a_csv_sees_the_bad_line_and_queues_the_good_rows(
    synced: Any, queue: dict[str, Any], make_legs: Any, engine: list[threading.Thread], lead_page: Any, tmp_path: Path
) -> None:
    sandbox, page = synced, lead_page
    (good_cid, good_pid), (bad_cid, bad_pid) = make_legs(2, queue["id"])
    code = queue["codeIds"][0]
    upload = tmp_path / "monday.csv"
    upload.write_text(f"conversation_id,participant_id,code,notes\n{good_cid},{good_pid},{code},from the sheet\n"
                      f"{bad_cid},{bad_pid},No Such Code,\n")  # fmt: skip
    sign_in(page, "lead")

    page.click("nav.main >> text=Assignments")
    page.click("a:text('upload a CSV file')")
    page.set_input_files("#id_file", str(upload))
    page.click("button:text('Upload and preview')")
    page.wait_for_selector("h1:text('Preview of monday.csv')")
    bad = page.locator("table.review tbody tr", has=page.locator("td:first-child:text-is('3')"))
    assert "No wrap-up code has the id or exact name 'No Such Code'" in bad.inner_text()
    screenshot(page, "assignments-csv-preview")
    assert page.locator("button:text('Confirm')").count() == 0  # a bad row: only the explicit choice

    page.click("button:text('Queue the 1 good row and skip 1 bad one')")
    page.wait_for_selector("h1:has-text('CSV upload')")
    page.wait_for_selector("#progress:has-text('1 of 1 finished')", timeout=15_000)
    screenshot(page, "assignments-csv-done")
    for thread in engine:
        thread.join(timeout=30)
    token = sandbox.token()
    assert (carried(sandbox, good_cid, good_pid, token), carried(sandbox, bad_cid, bad_pid, token)) == (code, None)
