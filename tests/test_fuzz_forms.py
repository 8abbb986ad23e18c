"""Hypothesis fuzz over every form and query-string filter of the portal, and the CSV importer.

Invariants, for every generated input:
* never a server error (the test client re-raises any exception a view lets out);
* no partial write: a POST that is not answered by the redirect of success changes no row;
* no audit gap: whenever a row changed, an audit event was written with it.

The webhook's fuzz lives with its other tests (tests/assignments/test_events.py); the invariant
version over it is at the end of this file. Examples per test: PORTAL_FUZZ_EXAMPLES (default 50).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as fuzz_settings
from hypothesis import strategies as st

from wrapup_portal.accounts.models import QueueGrant
from wrapup_portal.accounts.roles import ADMIN, COMPLIANCE, TEAM_LEAD
from wrapup_portal.assignments import services
from wrapup_portal.assignments.csv_rows import MAX_ROWS, parse_assignment_csv
from wrapup_portal.assignments.models import Assignment, BulkJob, Rule
from wrapup_portal.audit.models import AuditEvent
from wrapup_portal.catalog.models import CodeGroup, WrapupCode

EXAMPLES = int(os.environ.get("PORTAL_FUZZ_EXAMPLES", 50))
FUZZ = fuzz_settings(max_examples=EXAMPLES, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
# Not audited on purpose: refusals are (a permission_denied / CSRF event), writes must be.
REFUSAL_ACTIONS = ("auth.permission_denied",)

# Text a browser could send (lone surrogates cannot be encoded in a request), NUL included.
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=60)
AWKWARD = st.sampled_from(["", " ", "0", "-1", "1", "2", "00", "1e309", "99999999999999999999999", "NaN", "null",
                           "\x00", "a\x00b", "' OR 1=1 --", "<script>alert(1)</script>", "%00", "../../etc",
                           "2026-02-30T25:61", "2026-01-01T00:00", "1970-01-01", "9999-12-31T23:59:59", "true",
                           "on", "x" * 5000, "ü" * 300, "0ae82ce3-5c8e-4865-82d4-caa2a4e6a1de/xyz"])  # fmt: skip


def values(*known: list[str]) -> st.SearchStrategy[str]:
    pool = [v for group in known for v in group]
    return st.one_of(TEXT, AWKWARD, st.uuids().map(str), st.integers().map(str),
                     *([st.sampled_from(pool)] if pool else []))  # fmt: skip


def form_data(fields: list[str], *known: list[str]) -> st.SearchStrategy[dict[str, list[str]]]:
    """Known field names (and a few random ones) with zero to three values each."""
    names = st.sampled_from(fields) | TEXT.filter(lambda s: s and "\x00" not in s)
    return st.dictionaries(names, st.lists(values(*known), max_size=3), max_size=len(fields) + 2)


def mutated(base: dict[str, list[str]], fields: list[str], *known: list[str]) -> st.SearchStrategy[dict[str, list[str]]]:
    """A valid form with a few fields changed or dropped: reaches the services' own checks, not only the form's."""
    changes = st.dictionaries(st.sampled_from(fields), st.lists(values(*known), max_size=2), max_size=3)
    dropped = st.sets(st.sampled_from(fields), max_size=2)
    return st.builds(lambda over, gone: {k: v for k, v in {**base, **over}.items() if k not in gone}, changes, dropped)


def snapshot() -> tuple[Any, ...]:
    """Every row a form could change, and the number of audit events other than refusals."""
    return (
        list(Assignment.objects.order_by("pk").values_list("pk", "state")),
        BulkJob.objects.count(),
        list(Rule.objects.order_by("pk").values()),
        sorted(QueueGrant.objects.values_list("user_id", "code_group_id")),
        sorted(CodeGroup.objects.filter(synced=True).values_list("pk", flat=True)),
        AuditEvent.objects.exclude(action__in=REFUSAL_ACTIONS).count(),
    )


def check(response: Any, before: tuple[Any, ...], *, post: bool) -> None:
    after = snapshot()
    assert response.status_code < 500, response.status_code
    rows_changed = before[:-1] != after[:-1]
    if post and response.status_code != 302:
        assert not rows_changed, "a refused POST changed rows"
    if rows_changed:
        assert after[-1] > before[-1], "rows changed without an audit event"


@pytest.fixture
def world(catalog: Any, make_user: Any, client_for: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Signed-in clients per role, ids worth guessing, and a conversation on the lead's queue (ended
    afterwards: the sandbox is shared, and a leg left in ACW would show in other tests' searches)."""
    monkeypatch.setattr(services, "assignment_enqueue", lambda ids: None)
    monkeypatch.setattr(services, "assignment_feed", lambda **kwargs: 0)
    sandbox = catalog
    queue = next(q for q in sandbox.org()["queues"] if q["wrapupPrompt"] == "MANDATORY")
    lead = make_user("lead", TEAM_LEAD)
    QueueGrant.objects.create(user=lead, code_group=CodeGroup.objects.get(queue_id=queue["id"]))
    conversation = sandbox.create_conversation(queueId=queue["id"], state="acw")
    agent = next(p for p in conversation["participants"] if p["purpose"] == "agent")
    groups = list(CodeGroup.objects.order_by("pk"))
    yield {
        "lead": client_for(lead), "lead_user": lead,
        "admin": client_for(make_user("admin", ADMIN, is_staff=True)),
        "compliance": client_for(make_user("compliance", COMPLIANCE)),
        "queues": [g.queue_id for g in groups], "groups": [str(g.pk) for g in groups],
        "codes": list(WrapupCode.objects.values_list("code_id", flat=True)[:20]) + queue["codeIds"][:3],
        "leg": [f"{conversation['id']}/{agent['id']}"], "cid": conversation["id"], "pid": agent["id"],
        "code": queue["codeIds"][0], "code_pk": str(WrapupCode.objects.get(code_id=queue["codeIds"][0]).pk),
        "group": str(CodeGroup.objects.get(queue_id=queue["id"]).pk),
        "sandbox": sandbox,
    }
    sandbox.reset()
    sandbox.advance(conversation["id"], to="ended")


def fuzz_request(world: dict[str, Any], who: str, method: str, path: str | Callable[[dict[str, Any]], str],
                 data: dict[str, list[str]]) -> None:  # fmt: skip
    client: Client = world[who]
    url = path(world) if callable(path) else path
    before = snapshot()
    response = getattr(client, method)(url, data)
    check(response, before, post=method == "post")


# --- query-string filters (GET) ----------------------------------------------------------------------
SEARCH_FIELDS = ["preset", "start", "end", "queue", "agent", "wrapup", "code", "media", "direction", "ani", "dnis",
                 "conversation", "page", "clear"]  # fmt: skip
PRESETS = ["today", "yesterday", "last_hour", "last_7_days", "custom", "any", "none", "timeout", "system", "coded",
           "code", "voice", "inbound"]  # fmt: skip


@FUZZ
@given(data=st.data())
def test_search_and_export_filters(world: dict[str, Any], data: st.DataObject) -> None:
    query = data.draw(form_data(SEARCH_FIELDS, PRESETS, world["queues"], world["codes"]))
    path = data.draw(st.sampled_from(["/interactions/", "/interactions/export.csv", "/interactions/live/"]))
    fuzz_request(world, data.draw(st.sampled_from(["lead", "admin"])), "get", path, query)


AUDIT_FIELDS = ["since", "until", "actor", "action", "conversation", "queue", "code", "outcome", "before", "after",
                "format", "clear"]  # fmt: skip


@FUZZ
@given(data=st.data())
def test_audit_filters_and_export(world: dict[str, Any], data: st.DataObject) -> None:
    query = data.draw(form_data(AUDIT_FIELDS, ["csv", "json", "assignment.requested", "auth.sign_in"]))
    path = data.draw(st.sampled_from(["/audit/", "/audit/export/"]))
    fuzz_request(world, "compliance", "get", path, query)


@FUZZ
@given(data=st.data())
def test_list_page_filters(world: dict[str, Any], data: st.DataObject) -> None:
    who, path, fields = data.draw(st.sampled_from([
        ("lead", "/assignments/", ["state", "page"]),
        ("admin", "/catalog/", ["q", "removed", "page", "clear"]),
        ("admin", "/catalog/runs/", ["page"]),
        ("admin", "/catalog/drift/", ["kind", "page"]),
        ("admin", "/rules/dry-run/", ["run", "hours", "rule", "queue"]),
        ("admin", "/accounts/grants/", ["page", "q"]),
        ("admin", "/accounts/lockouts/", ["page"]),
    ]))  # fmt: skip
    fuzz_request(world, who, "get", path, data.draw(form_data(fields, ["requested", "failed", "added", "1"])))


# --- forms (POST) ----------------------------------------------------------------------------------
@FUZZ
@given(data=st.data())
def test_assign_form(world: dict[str, Any], data: st.DataObject) -> None:
    fields = ["code", "notes", "reason"]
    form = data.draw(form_data(fields, world["codes"]) | mutated({"code": [world["code"]]}, fields, world["codes"]))
    cid = data.draw(st.sampled_from([world["cid"], world["cid"].upper(), "0" * 8 + world["cid"][8:]]))
    fuzz_request(world, "lead", "post", f"/interactions/{cid}/legs/{world['pid']}/assign/", form)


@FUZZ
@given(data=st.data())
def test_bulk_forms(world: dict[str, Any], data: st.DataObject) -> None:
    fields = ["leg", "code", "notes", "reason", "digest", "skip_invalid"]
    form = data.draw(form_data(fields, world["leg"], world["codes"])
                     | mutated({"leg": world["leg"], "code": [world["code"]]}, fields, world["leg"], world["codes"]))
    path = data.draw(st.sampled_from(["/assignments/bulk/preview/", "/assignments/bulk/confirm/",
                                      "/interactions/assign-all/?preset=today"]))  # fmt: skip
    fuzz_request(world, data.draw(st.sampled_from(["lead", "admin"])), "post", path, form)


@FUZZ
@given(data=st.data())
def test_rule_form(world: dict[str, Any], data: st.DataObject) -> None:
    fields = ["name", "queue", "code", "enabled", "priority", "only_without_code", "override_agent_code",
              "notes_template", "media_types", "direction", "ani_pattern", "dnis_pattern", "user_ids", "team_ids",
              "talk_seconds_min", "talk_seconds_max", "disconnect_types"]  # fmt: skip
    known = (world["groups"], world["codes"], [world["code_pk"], "voice", "inbound", "+1*", "{rule}"])
    base = {"name": ["fuzz rule"], "queue": [world["group"]], "code": [world["code_pk"]], "enabled": ["on"]}
    form = data.draw(form_data(fields, *known) | mutated(base, fields, *known))
    fuzz_request(world, "admin", "post", "/rules/new/", form)


@FUZZ
@given(data=st.data())
def test_rule_actions(world: dict[str, Any], data: st.DataObject) -> None:
    if not Rule.objects.exists():
        group = CodeGroup.objects.get(queue_id=world["lead_user"].queue_grants.get().code_group.queue_id)
        Rule.objects.create(name="fuzzed", queue=group, code=group.codes.first() if hasattr(group, "codes") else
                            WrapupCode.objects.filter(memberships__group=group).first())  # fmt: skip
    pk = Rule.objects.values_list("pk", flat=True).first()
    path = data.draw(st.sampled_from([f"/rules/{pk}/toggle/", f"/rules/{pk}/move/", f"/rules/{pk}/delete/"]))
    fuzz_request(world, "admin", "post", path, data.draw(form_data(["enabled", "direction", "confirm"], ["up", "down"])))


@FUZZ
@given(data=st.data())
def test_catalog_and_grant_forms(world: dict[str, Any], data: st.DataObject) -> None:
    lead_id = world["lead_user"].pk
    path, fields = data.draw(st.sampled_from([
        ("/catalog/synced/", ["queue_ids", "synced", "next"]),
        (f"/accounts/grants/{lead_id}/", ["groups"]),
        ("/accounts/grants/999999/", ["groups"]),
        ("/accounts/lockouts/unlock/", ["username", "ip_address"]),
    ]))  # fmt: skip
    form = data.draw(form_data(fields, world["queues"], world["groups"], ["lead", "127.0.0.1", "::1"]))
    fuzz_request(world, "admin", "post", path, form)


# --- the CSV importer -----------------------------------------------------------------------------
CELL = st.one_of(TEXT, AWKWARD, st.uuids().map(str), st.just(""))
CSV_TEXT = st.builds(
    lambda header, rows, sep: sep.join([header, *(",".join(r) for r in rows)]),
    st.sampled_from(["conversation_id,participant_id,code,notes", "conversation_id,code", "CODE,Conversation_ID",
                     "conversation_id,participant_id,code,notes,extra", "", "a,b"]),
    st.lists(st.lists(CELL.map(lambda c: c.replace("\n", " ")), max_size=6), max_size=12),
    st.sampled_from(["\n", "\r\n", "\r"]),
)  # fmt: skip


@FUZZ
@given(raw=st.binary(max_size=400) | CSV_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_csv_parser_accounts_for_every_row(raw: bytes) -> None:
    parsed = parse_assignment_csv(raw)
    assert len(parsed.rows) + len(parsed.errors) <= MAX_ROWS + 1
    assert parsed.rows or parsed.errors  # a file is either rows or says why not
    lines = [line for line, _ in parsed.rows] + [e.line for e in parsed.errors]
    assert len(lines) == len(set(lines))  # no row counted twice
    for _, wanted in parsed.rows:
        assert wanted.conversation_id and wanted.code  # the required cells are there


@FUZZ
@given(data=st.data())
def test_csv_upload_and_confirm(world: dict[str, Any], data: st.DataObject) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    text = data.draw(CSV_TEXT | st.just(f"conversation_id,participant_id,code,notes\n{world['cid']},{world['pid']},"
                                        f"{world['codes'][-1]},fuzz"))  # fmt: skip
    upload = SimpleUploadedFile("f.csv", text.encode("utf-8", "surrogatepass"), "text/csv")
    before = snapshot()
    response = world["lead"].post("/assignments/upload/", {"file": upload, "reason": data.draw(TEXT)})
    check(response, before, post=True)
    if response.status_code == 200 and response.context and response.context.get("upload"):
        confirm = data.draw(form_data(["digest", "skip_invalid", "reason"], [response.context["review"].digest]))
        fuzz_request(world, "lead", "post", "/assignments/upload/confirm/", {**confirm, "upload": [response.context["upload"]]})
