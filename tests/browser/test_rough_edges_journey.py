"""Rough edges of the catalog and audit pages that only a real browser shows (issue 11).

A phone-width layout, the audit filter in the address bar (bookmarkable, shareable), a refused
filter after htmx swapped the results, and *Verify now* showing its result when the cluster
has run it.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.models import OrmQ

from tests.browser.conftest import sign_in
from wrapup_portal.audit.forms import TIME_RANGE_REVERSED
from wrapup_portal.audit.models import Action
from wrapup_portal.audit.services import Actor, audit_record
from wrapup_portal.catalog.models import CodeGroup, Membership, WrapupCode

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# The page's own width against the window's, and every table box: inside the window, and
# whether its table is wider than the box (it then scrolls inside it, not the page).
LAYOUT = """() => ({
    page: document.scrollingElement.scrollWidth, window: window.innerWidth,
    header: [document.querySelector('header.top').scrollWidth, document.querySelector('header.top').clientWidth],
    navLines: [...document.querySelectorAll('nav.main a, .who > *')].map(
        a => Math.round(a.getBoundingClientRect().height / parseFloat(getComputedStyle(a).lineHeight))),
    navRows: new Set([...document.querySelectorAll('nav.main a')].map(a => Math.round(a.getBoundingClientRect().top))).size,
    navLinks: document.querySelectorAll('nav.main a').length,
    tables: [...document.querySelectorAll('main table')].filter(t => !t.parentElement.closest('table')).map(t => {
        const box = t.closest('.scroll');
        return {boxed: !!box, right: Math.round((box || t).getBoundingClientRect().right),
                scrolls: !!box && box.scrollWidth > box.clientWidth};
    }),
})"""


def a_catalog() -> None:
    """Queues with the long names and settings a real organisation has."""
    now = timezone.now()
    codes = [WrapupCode.objects.create(code_id=f"c-{i}", name=f"Escalated to second-line support {i}", first_seen_at=now,
                                       changed_at=now) for i in range(3)]
    for i, name in enumerate(["Customer Service – Premium Accounts (EMEA, after hours)", "Billing disputes and refunds",
                              "Technical support – broadband and TV", "Retention / cancellation requests"]):
        group = CodeGroup.objects.create(queue_id=f"q-{i}", name=name, division_name="Home division of the organisation",
                                         wrapup_prompt="MANDATORY_FORCED_TIMEOUT", acw_timeout_ms=120000,
                                         first_seen_at=now, changed_at=now)
        for code in codes:
            Membership.objects.create(group=group, code=code, added_at=now)


def layout_problems(page, url: str) -> list[str]:
    page.goto(url)
    seen = page.evaluate(LAYOUT)
    problems = []
    if seen["page"] > seen["window"]:
        problems.append(f"{url}: the page is {seen['page']} px wide in a {seen['window']} px window")
    if seen["header"][0] > seen["header"][1]:
        problems.append(f"{url}: the header overflows ({seen['header'][0]} px in {seen['header'][1]} px)")
    if any(lines > 1 for lines in seen["navLines"]):
        problems.append(f"{url}: header entries squeezed onto several lines {seen['navLines']}")
    if seen["navLinks"] > 2 and seen["navRows"] == seen["navLinks"]:
        problems.append(f"{url}: the navigation is squeezed into a column beside the brand")
    for table in seen["tables"]:
        if not table["boxed"] or table["right"] > seen["window"]:
            problems.append(f"{url}: a table is not in a scrolling box inside the window {table}")
    return problems


def test_on_a_390px_phone_pages_fit_and_tables_scroll_inside_their_box(page) -> None:
    call_command("seed_demo", stdout=StringIO())
    a_catalog()
    page.set_viewport_size(PHONE)
    sign_in(page, "admin")
    pages = ("/catalog/", f"/catalog/groups/{CodeGroup.objects.first().pk}/", "/catalog/runs/", "/catalog/drift/", "/system/")
    problems = [problem for url in pages for problem in layout_problems(page, url)]
    page.goto("/catalog/")
    if not page.evaluate(LAYOUT)["tables"][0]["scrolls"]:  # wider than a phone: it scrolls inside its box
        problems.append("/catalog/: the catalog table does not scroll inside its box")
    page.click("text=Sign out")
    sign_in(page, "compliance")
    problems += [problem for url in ("/audit/?action=", "/audit/1/") for problem in layout_problems(page, url)]
    assert problems == []


def test_the_audit_filter_is_in_the_address_bar_and_a_shared_link_shows_the_same_view(page, browser, live_server) -> None:
    call_command("seed_demo", stdout=StringIO())
    sign_in(page, "lead")
    page.click("text=Sign out")
    sign_in(page, "compliance")
    page.goto("/audit/")
    page.select_option("select[name=action]", Action.SIGN_IN)
    page.fill("input[name=actor]", "lead")
    page.click("button:text('Filter')")  # htmx swaps the results and pushes the address
    expect(page.locator("#results tbody tr")).to_have_count(1)  # not wait_for_function: the CSP refuses its eval
    assert "action=auth.sign_in" in page.url and "actor=lead" in page.url
    shared = page.url

    # Someone else opens the link in their own browser: same filter, same rows.
    other = browser.new_context(base_url=live_server.url)
    try:
        colleague = other.new_page()
        sign_in(colleague, "compliance")
        colleague.goto(shared)
        assert colleague.input_value("input[name=actor]") == "lead"
        assert colleague.locator("#results tbody td:nth-child(3)").all_inner_texts() == ["lead Person"]
    finally:
        other.close()
    page.reload()  # a bookmark is the same
    assert page.locator("#results tbody tr").count() == 1


def test_a_refused_filter_says_why_after_htmx_swaps_the_results(page) -> None:
    call_command("seed_demo", stdout=StringIO())
    sign_in(page, "compliance")
    page.goto("/audit/?action=")
    page.fill("input[name=since]", "2030-01-02T10:00")
    page.fill("input[name=until]", "2030-01-01T10:00")
    page.click("button:text('Filter')")
    page.wait_for_selector(f"#results .errors:has-text('{TIME_RANGE_REVERSED}')")


def test_verify_now_shows_the_result_once_the_cluster_has_run_it(page) -> None:
    call_command("seed_demo", stdout=StringIO())
    for i in range(3):
        audit_record(action=Action.ASSIGNMENT_APPLIED, actor=Actor.system("engine"), conversation_id=f"conv-{i}")
    sign_in(page, "compliance")
    page.click("text=Audit log")
    assert "not verified yet" in page.inner_text("#chain-status")
    page.click("button:text('Verify now')")
    page.wait_for_selector("h1:text('Chain verification')")
    assert "Queued" in page.inner_text("#verification")

    queued = OrmQ.objects.get()  # what the cluster would do: run the queued task
    import_string(queued.task["func"])(*queued.task["args"])
    queued.delete()
    # The page polls, and reloads itself once the answer is in.
    page.wait_for_selector("#verification .status-ok:has-text('Chain intact')")
    assert "last verified" in page.inner_text("#chain-status")
