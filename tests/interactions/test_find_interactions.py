"""`find_interactions`: the search page's selector from the command line.

Its legs are compared with the sandbox's own record of every leg (ground truth) and with what
the search page shows the same user for the same filters; usage errors must cost no API call.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from integrations.genesys import WRAP_UP_TIMEOUT, GenesysClient, RetryPolicy
from wrapup_portal.catalog.models import CodeGroup, WrapupCode
from wrapup_portal.interactions import selectors
from wrapup_portal.interactions.management.commands.find_interactions import FIELDS

from .conftest import api_calls, ground_truth, yesterday

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
STAMP = "%Y-%m-%dT%H:%M:%SZ"
Leg = tuple[str, str]  # (conversation id, participant id)


def find(*args: str) -> tuple[str, str]:
    """(stdout, stderr) of one run; a failure raises ``CommandError`` carrying its exit status."""
    out, err = io.StringIO(), io.StringIO()
    call_command("find_interactions", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def interval(start: datetime, end: datetime) -> list[str]:
    return ["--start", start.strftime(STAMP), "--end", end.strftime(STAMP)]


def found(*args: str) -> list[dict[str, str]]:
    out, _ = find(*args, "--format", "json")
    return json.loads(out)


def legs_of(rows: Iterable[dict[str, Any]], cid: str = "conversation_id", pid: str = "participant_id") -> set[Leg]:
    return {(row[cid], row[pid]) for row in rows}


def truth_legs(rows: Iterable[dict[str, Any]]) -> set[Leg]:
    return legs_of(rows, "conversationId", "participantId")


def most_common_code(rows: list[dict[str, Any]]) -> str:
    real = Counter(r["wrapupCode"] for r in rows if r["wrapupCode"] and not r["wrapupCode"].startswith("ININ-"))
    return real.most_common(1)[0][0]


def busiest_queues(rows: list[dict[str, Any]], count: int) -> list[str]:
    return [queue for queue, _ in Counter(r["queueId"] for r in rows).most_common(count)]


# --- what it finds ---------------------------------------------------------------------------


def test_no_code_timeout_and_a_code_are_the_ground_truths_legs(catalog: Any) -> None:
    start, end = yesterday(catalog)
    rows = ground_truth(catalog, start, end)
    code = most_common_code(rows)
    expected = {
        "none": truth_legs(r for r in rows if r["acwBegun"] and r["wrapupCode"] is None),
        "timeout": truth_legs(r for r in rows if r["wrapupCode"] == WRAP_UP_TIMEOUT),
        code: truth_legs(r for r in rows if r["wrapupCode"] == code),
    }
    assert all(expected.values()), "yesterday's seeded data must have legs of each kind"

    for wrapup, legs in expected.items():
        assert legs_of(found(*interval(start, end), "--wrapup", wrapup)) == legs, wrapup


def test_a_code_may_be_given_by_its_exact_name(catalog: Any) -> None:
    start, end = yesterday(catalog)
    code = WrapupCode.objects.get(code_id=most_common_code(ground_truth(catalog, start, end)))
    assert WrapupCode.objects.filter(name=code.name).count() == 1

    by_name = found(*interval(start, end), "--wrapup", code.name)

    assert by_name == found(*interval(start, end), "--wrapup", code.code_id)
    assert by_name and {row["wrapup_code"] for row in by_name} == {code.code_id}


def test_json_has_the_contracts_keys_and_csv_the_same_rows_under_its_header(catalog: Any) -> None:
    start, end = yesterday(catalog)
    as_json = found(*interval(start, end))
    as_csv, _ = find(*interval(start, end), "--format", "csv")

    assert as_json and all(list(row) == list(FIELDS) for row in as_json)
    assert FIELDS == ("conversation_id", "participant_id", "queue_id", "user_id", "wrapup_code", "state")
    assert as_csv.splitlines()[0] == "conversation_id,participant_id,queue_id,user_id,wrapup_code,state"
    assert list(csv.DictReader(io.StringIO(as_csv))) == as_json
    assert {row["state"] for row in as_json} <= {"connected", "acw", "final"}
    # "any" is every agent leg, each with its queue, agent and code (an id, ININ-* or "") as Genesys has them.
    truth = {(r["conversationId"], r["participantId"]): (r["queueId"], r["userId"], r["wrapupCode"] or "")
             for r in ground_truth(catalog, start, end)}  # fmt: skip
    assert {(r["conversation_id"], r["participant_id"]): (r["queue_id"], r["user_id"], r["wrapup_code"]) for r in as_json} == truth


def test_nothing_found_is_a_header_or_an_empty_array_and_success(catalog: Any) -> None:
    start, end = yesterday(catalog)
    old = (start - timedelta(days=365), end - timedelta(days=365))  # before the seeded history

    as_csv, _ = find(*interval(*old))
    as_json, _ = find(*interval(*old), "--format", "json")

    assert as_csv == ",".join(FIELDS) + "\n"
    assert json.loads(as_json) == []


# --- the same as the page --------------------------------------------------------------------


def page_legs(client: Client, params: dict[str, str]) -> tuple[set[Leg], int]:
    """(legs the search page lists over all its pages, pages read), following "next →"."""
    legs: set[Leg] = set()
    number = 1
    while True:
        response = client.get(reverse("interactions:search"), {**params, "page": str(number)})
        assert response.status_code == 200
        html = response.content.decode()
        assert "Genesys could not answer" not in html
        legs.update(tuple(value.split("/")) for value in re.findall(r'name="leg" value="([^"]+)"', html))
        if "next →" not in html:
            return legs, number
        number += 1


def test_the_command_and_the_page_find_the_same_legs_for_the_same_lead(
    catalog: Any, lead: User, grant: Callable[[User, list[str]], None], client_for: Callable[[User], Client], settings: Any
) -> None:
    settings.TIME_ZONE = "UTC"  # the page reads its datetime-local fields in the user's zone
    _, end = yesterday(catalog)
    start = end - timedelta(days=7)
    rows = ground_truth(catalog, start, end)
    # Queues where each filter finds something: the busiest overall, with no code, timed out.
    no_code = [r for r in rows if r["acwBegun"] and r["wrapupCode"] is None]
    timed_out = [r for r in rows if r["wrapupCode"] == WRAP_UP_TIMEOUT]
    queues = {*busiest_queues(rows, 1), *busiest_queues(no_code, 1), *busiest_queues(timed_out, 1)}
    assert len(queues) < len(set(busiest_queues(rows, 100))), "the lead must not see every queue"
    grant(lead, sorted(queues))
    page = client_for(lead)
    base = {"preset": "custom", "start": start.strftime("%Y-%m-%dT%H:%M"), "end": end.strftime("%Y-%m-%dT%H:%M")}

    for wrapup in ("any", "none", "timeout"):
        on_page, pages = page_legs(page, {**base, "wrapup": wrapup})
        from_command = legs_of(found(*interval(start, end), "--wrapup", wrapup, "--as", "lead"))
        assert from_command == on_page and on_page, wrapup
        if wrapup == "any":
            assert pages > 1, "the comparison should cross a page boundary"


# --- whose queues ----------------------------------------------------------------------------


def test_as_a_lead_only_their_queue_is_searched(catalog: Any, lead: User, grant: Callable[[User, list[str]], None]) -> None:
    start, end = yesterday(catalog)
    rows = ground_truth(catalog, start, end)
    queue = busiest_queues(rows, 1)[0]
    grant(lead, [queue])

    legs = found(*interval(start, end), "--as", "lead")

    assert legs and {row["queue_id"] for row in legs} == {queue}
    assert legs_of(legs) == truth_legs(r for r in rows if r["queueId"] == queue)
    name = CodeGroup.objects.get(queue_id=queue).name
    assert found(*interval(start, end), "--as", "lead", "--queue", name) == legs  # by exact name, as by id
    assert len(found(*interval(start, end))) > len(legs)  # without --as: every queue


def test_a_queue_not_granted_to_the_user_is_a_usage_error(catalog: Any, lead: User, grant: Callable[[User, list[str]], None]) -> None:
    start, end = yesterday(catalog)
    mine, other = CodeGroup.objects.order_by("name")[:2]
    grant(lead, [mine.queue_id])
    before = api_calls(catalog)

    with pytest.raises(CommandError) as refused:
        find(*interval(start, end), "--as", "lead", "--queue", other.name)

    assert refused.value.returncode == 2
    assert other.name in str(refused.value) and "not granted to lead" in str(refused.value)
    assert api_calls(catalog) == before


def test_a_user_without_queues_finds_nothing_and_says_so(catalog: Any, lead: User) -> None:
    start, end = yesterday(catalog)
    before = api_calls(catalog)

    out, err = find(*interval(start, end), "--as", "lead")

    assert out == ",".join(FIELDS) + "\n"
    assert "lead has no queues granted" in err
    assert api_calls(catalog) == before


# --- usage errors and failures ---------------------------------------------------------------


USAGE_ERRORS: dict[str, tuple[Callable[[datetime, datetime], list[str]], str]] = {
    "bad date": (lambda s, e: ["--start", "yesterday-ish", "--end", e.strftime(STAMP)], "not an ISO date"),
    "start after end": (lambda s, e: interval(e, s), "must be after its start"),
    "empty range": (lambda s, e: interval(s, s), "must be after its start"),
    "unknown queue": (lambda s, e: [*interval(s, e), "--queue", "No Such Queue"], "'No Such Queue': no queue"),
    "unknown code": (lambda s, e: [*interval(s, e), "--wrapup", "No Such Code"], "'No Such Code': no wrap-up code"),
    "unknown user": (lambda s, e: [*interval(s, e), "--as", "nobody"], "'nobody': no such user"),
    "range too long": (lambda s, e: interval(e - timedelta(days=32), e), "at most 31 days"),
    "range in the future": (lambda s, e: interval(e + timedelta(days=400), e + timedelta(days=401)), "in the future"),
}


@pytest.mark.parametrize("case", USAGE_ERRORS)
def test_usage_errors_exit_2_with_a_message_and_make_no_api_call(catalog: Any, settings: Any, case: str) -> None:
    settings.PORTAL_SEARCH_MAX_DAYS = 31
    build, message = USAGE_ERRORS[case]
    start, end = yesterday(catalog)
    before = api_calls(catalog)

    with pytest.raises(CommandError) as refused:
        find(*build(start, end))

    assert refused.value.returncode == 2
    assert message in str(refused.value)
    assert api_calls(catalog) == before


def test_naive_dates_are_utc_and_offsets_are_honoured(catalog: Any) -> None:
    start, end = yesterday(catalog)
    utc = found(*interval(start, end), "--wrapup", "none")

    naive = found("--start", start.strftime("%Y-%m-%dT%H:%M"), "--end", end.strftime("%Y-%m-%d"), "--wrapup", "none")
    paris = found("--start", (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M+02:00"),
                  "--end", (end + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S+02:00"), "--wrapup", "none")  # fmt: skip

    assert utc and naive == utc and paris == utc


def test_genesys_failing_exits_1_with_its_message(catalog: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # The portal's client backs off for seconds between attempts; this one retries without waiting.
    impatient = GenesysClient(client_id=catalog.client_id, client_secret=catalog.client_secret, api_url=catalog.url,
                              login_url=catalog.login_url, retry=RetryPolicy(max_attempts=2), sleep=lambda _: None)  # fmt: skip
    monkeypatch.setattr(selectors, "get_genesys_client", lambda: impatient)
    catalog.configure(error_rate=1.0)
    start, end = yesterday(catalog)
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError) as failed:
        call_command("find_interactions", *interval(start, end), stdout=out, stderr=err)

    assert failed.value.returncode == 1
    assert str(failed.value).startswith("Genesys could not answer the search: ")
    assert re.search(r"HTTP 50[023]", str(failed.value))  # the client's message: status and correlation id
    assert out.getvalue() == ""  # no half a result


def test_cut_short_prints_what_it_found_warns_and_exits_1(catalog: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _, end = yesterday(catalog)
    start = end - timedelta(days=7)  # several pages of conversations on every queue
    everything = found(*interval(start, end))
    real = selectors.interaction_search_all

    def one_page(*, search: Any) -> Any:
        return real(search=search, max_pages=1)

    monkeypatch.setattr("wrapup_portal.interactions.management.commands.find_interactions.interaction_search_all", one_page)
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError) as cut:
        call_command("find_interactions", *interval(start, end), "--format", "json", stdout=out, stderr=err)

    assert cut.value.returncode == 1 and "incomplete" in str(cut.value)
    partial = json.loads(out.getvalue())  # still one whole JSON array
    assert partial and legs_of(partial) < legs_of(everything)


def test_exit_statuses_from_the_command_line(tmp_path: Path) -> None:
    """argparse errors and the command's own usage errors both exit 2 from a shell, on stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENESYS_", "DATABASE_URL"))}
    env.update(DJANGO_SETTINGS_MODULE="wrapup_portal.settings", DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}")

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, str(ROOT / "manage.py"), "find_interactions", *args]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    for args, message in (
        (["--end", "2026-05-02"], "required: --start"),
        (["--start", "2026-05-01", "--end", "2026-05-02", "--format", "xml"], "invalid choice: 'xml'"),
        (["--start", "2026-05-01", "--end", "2026-13-02"], "--end '2026-13-02' is not an ISO date"),
    ):
        done = manage(*args)
        assert done.returncode == 2 and message in done.stderr and done.stdout == "", (args, done.stderr)
    assert "naive = UTC" in manage("--help").stdout
