"""Each role's overview, against the sandbox over HTTP: its figures equal the sandbox's ground truth."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from integrations.genesys import WRAP_UP_TIMEOUT
from wrapup_portal.assignments.models import Assignment, Source, State
from wrapup_portal.audit.models import AuditEvent
from wrapup_portal.overview.charts import Bar, Series, bar_chart, stacked_columns
from wrapup_portal.overview.selectors import lead_overview, start_of_today

from .conftest import api_calls, ground_truth, sandbox_now

pytestmark = pytest.mark.integration


def table_rows(html: str, heading: str) -> dict[str, list[str]]:
    """The 'Numbers' table of the section titled ``heading``: first cell -> the other cells."""
    section = html.split(f">{heading}</h2>", 1)[1].split("</section>", 1)[0]
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
        rows[cells[0]] = cells[1:]
    return rows


def assignment(queue_id: str, *, source: str = Source.PERSON, state: str = State.APPLIED, **extra: Any) -> Assignment:
    now = timezone.now()
    return Assignment.objects.create(
        conversation_id="c", participant_id="p", queue_id=queue_id, code_id="k", code_name="Sale", source=source,
        state=state, next_attempt_at=now, finished_at=now if state != State.WAITING_FOR_ACW else None, **extra,
    )  # fmt: skip


def test_lead_overview_counts_equal_the_sandbox_ground_truth(catalog: Any, lead: Any, grant: Any, client_for: Any,
                                                              ended: list[str]) -> None:  # fmt: skip
    sandbox = catalog
    first, second, other = sandbox.org()["queues"][:3]
    grant(lead, [first["id"], second["id"]])
    waiting = [sandbox.create_conversation(queueId=first["id"], state="acw") for _ in range(2)]
    ended.extend(c["id"] for c in waiting)
    ended.append(sandbox.create_conversation(queueId=other["id"], state="acw")["id"])  # not the lead's queue

    html = client_for(lead).get("/").content.decode()

    now = sandbox_now(sandbox)
    truth = ground_truth(sandbox, start_of_today(timezone.now()), now + timedelta(minutes=1))
    finished = Counter(leg["queueId"] for leg in truth if leg["wrapupCode"])
    timed_out = Counter(leg["queueId"] for leg in truth if leg["wrapupCode"] == WRAP_UP_TIMEOUT)
    in_acw = Counter(leg["queueId"] for leg in sandbox.http.get(f"{sandbox.url}/__sandbox/conversations",
                                                                 params={"state": "acw"}, timeout=10).json())  # fmt: skip
    rates = table_rows(html, "Time-out rate today")
    acw = table_rows(html, "In after-call work now")
    assert set(rates) == set(acw) == {first["name"], second["name"]}  # the lead's queues only
    for queue in (first, second):
        assert rates[queue["name"]][:2] == [str(finished[queue["id"]]), str(timed_out[queue["id"]])]
        assert acw[queue["name"]] == [str(in_acw[queue["id"]])]
    assert in_acw[first["id"]] >= 2
    assert sum(finished[q["id"]] for q in (first, second)) > 0  # the day has history to count
    assert 'id="chart-acw"' in html and 'id="chart-timeouts"' in html
    assert 'id="chart-sources"' not in html and "The portal has applied no code today." in html  # an empty state, not an empty chart
    assert "Audit events per day" not in html and "Code catalog</h2>" not in html


def test_overview_again_within_the_minute_costs_no_genesys_call(catalog: Any, lead: Any, grant: Any,
                                                                client_for: Any) -> None:  # fmt: skip
    grant(lead, [catalog.org()["queues"][0]["id"]])
    client = client_for(lead)
    client.get("/")
    before = api_calls(catalog)
    client.get("/")
    assert api_calls(catalog) == before


def test_codes_applied_today_by_source_and_what_needs_attention_are_the_leads_queues_only(
    catalog: Any, lead: Any, grant: Any, client_for: Any,
) -> None:
    mine, other = (q["id"] for q in catalog.org()["queues"][:2])
    grant(lead, [mine])
    for source in (Source.RULE, Source.RULE, Source.BULK):
        assignment(mine, source=source)
    assignment(other, source=Source.PERSON)  # another queue: not counted
    old = assignment(mine, source=Source.CSV)
    Assignment.objects.filter(pk=old.pk).update(finished_at=start_of_today(timezone.now()) - timedelta(minutes=1))
    failed = assignment(mine, state=State.FAILED, last_message="Genesys refused: code not offered")
    waiting = assignment(mine, state=State.WAITING_FOR_ACW)
    hidden = assignment(other, state=State.FAILED)

    html = client_for(lead).get("/").content.decode()

    sources = table_rows(html, "Codes the portal applied today")
    assert sources["Rule"] == ["2"] and sources["Bulk job"] == ["1"]
    assert sources["Person"] == ["0"] and sources["CSV upload"] == ["0"]  # yesterday's CSV code is not today's
    assert 'id="chart-sources"' in html
    attention = html.split(">Needs attention</h2>", 1)[1]
    assert f"/assignments/{failed.pk}/" in attention and f"/assignments/{waiting.pk}/" in attention
    assert f"/assignments/{hidden.pk}/" not in attention
    assert "Genesys refused: code not offered" in attention
    assert re.search(r'tile-number">1</span> failed in the last 24 hours', html)


def test_admin_sees_every_queue_the_last_sync_and_rule_activity(catalog: Any, admin_user: Any, client_for: Any) -> None:
    html = client_for(admin_user).get("/").content.decode()
    assert "Time-out rate today" in html
    assert "Code catalog</h2>" in html and "Last sync <a href=\"/catalog/runs/" in html
    assert "Succeeded" in html
    assert "No rules yet." in html and 'href="/rules/"' in html


def test_compliance_sees_events_per_day_equal_to_the_audit_table_and_the_chain(compliance: Any, client_for: Any) -> None:
    html = client_for(compliance).get("/").content.decode()  # signing in wrote events of its own

    today = timezone.localtime().strftime("%d %b")
    days = table_rows(html, "Audit events per day")
    assert sum(int(n) for n in days[today]) == AuditEvent.objects.filter(occurred_at__gte=start_of_today(timezone.now())).count()
    assert len(days) == 14
    assert 'id="chart-audit"' in html and 'id="chain-status"' in html
    assert "Time-out rate today" not in html and "Needs attention" not in html


def test_a_lead_without_queues_is_told_what_to_do_and_genesys_is_not_asked(catalog: Any, lead: Any, client_for: Any) -> None:
    before = api_calls(catalog)
    html = client_for(lead).get("/").content.decode()
    assert "No queues yet" in html and "ask an admin" in html
    assert api_calls(catalog) == before


def test_genesys_down_is_said_plainly_and_the_portals_own_figures_still_show(catalog: Any, lead: Any, grant: Any,
                                                                            client_for: Any) -> None:  # fmt: skip
    mine = catalog.org()["queues"][0]["id"]
    grant(lead, [mine])
    failed = assignment(mine, state=State.FAILED)
    catalog.configure(error_rate=1.0)
    response = client_for(lead).get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in html and "Genesys could not answer" in html
    assert "Traceback" not in html and 'id="chart-acw"' not in html
    assert f"/assignments/{failed.pk}/" in html.split(">Needs attention</h2>", 1)[1]


def test_lead_overview_for_a_user_with_no_queue_reads_nothing() -> None:
    overview = lead_overview(allowed=set())
    assert overview.no_queues and overview.queues == []


def test_bar_chart_escapes_names_and_prints_every_number() -> None:
    svg = str(bar_chart(chart_id="c", title="T <b>", bars=[Bar("<script>x</script>", 3, "3 of 4"), Bar("B", 0, "0")]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "T &lt;b&gt;" in svg
    assert ">3 of 4</text>" in svg and ">0</text>" in svg
    assert 'role="img"' in svg and 'aria-labelledby="c-title"' in svg
    assert "style=" not in svg  # colours come from the stylesheet (a strict CSP allows no inline style)


def test_stacked_columns_tell_series_apart_by_pattern_and_print_totals() -> None:
    svg = str(stacked_columns(chart_id="a", title="Events", columns=["01 Dec", "02 Dec"],
                              series=[Series("auth", (2, 0)), Series("assignment", (1, 5)), Series("sync", (0, 1))]))  # fmt: skip
    assert ">3</text>" in svg and ">6</text>" in svg  # the totals on top of each column
    assert 'fill="url(#a-hatch)"' in svg and 'fill="url(#a-dots)"' in svg  # series 2 and 3 are patterned
    assert svg.count("<title") == 1 + 4  # the chart's title, one per non-zero mark
    assert ">auth</text>" in svg and ">assignment</text>" in svg  # the legend


def test_more_kinds_of_audit_event_than_patterns_share_other(db: Any) -> None:
    from wrapup_portal.audit.models import Action
    from wrapup_portal.audit.services import Actor, audit_record
    from wrapup_portal.overview.charts import PATTERNS
    from wrapup_portal.overview.selectors import audit_days

    kinds = [Action.ASSIGNMENT_APPLIED, Action.SIGN_IN, Action.SYNC_STARTED, Action.RULE_CREATED, Action.GRANT_CHANGED,
             Action.CATALOG_SETTINGS_CHANGED, Action.WEBHOOK_REJECTED, Action.EXPORT_DOWNLOADED]  # fmt: skip
    for count, action in enumerate(kinds, start=1):
        for _ in range(10 - count):  # fewer of each next kind
            audit_record(action=action, actor=Actor.system("test"))
    days = audit_days()
    assert len(days.families) == len(PATTERNS) and days.families[-1] == "Other"
    assert sum(sum(v) for v in days.counts.values()) == AuditEvent.objects.count()  # nothing lost or counted twice
