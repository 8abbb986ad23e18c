"""The rule pages: list with today's outcomes, form, toggle, move, delete, and the 24-hour dry run."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from wrapup_portal.assignments import rule_views
from wrapup_portal.assignments.models import Assignment, Rule, Source, State
from wrapup_portal.assignments.rule_selectors import DRY_RUN_SHOWN, rule_dry_run
from wrapup_portal.assignments.rule_services import CODE_NOT_OFFERED_BY_QUEUE, RuleData, rule_create
from wrapup_portal.audit.models import Action, AuditEvent
from wrapup_portal.audit.services import Actor
from wrapup_portal.catalog.models import CodeGroup, WrapupCode
from wrapup_portal.core.genesys import build_genesys_client

from tests.interactions.conftest import sandbox_now

ACTOR = Actor.cli("tester")


@pytest.fixture
def admin_client(admin_user: Any, client_for: Any) -> Client:
    return client_for(admin_user)


def make(queue: CodeGroup, name: str, **extra: Any) -> Rule:
    code = extra.pop("code", None) or queue.codes.order_by("name").first()
    return rule_create(data=RuleData(name=name, queue=queue, code=code, **extra), actor=ACTOR)


def test_the_list_shows_rules_in_order_with_todays_coded_and_failed(queue: CodeGroup, admin_client: Client) -> None:
    first, second = make(queue, "first"), make(queue, "second")
    base = {"conversation_id": "c", "queue_id": queue.queue_id, "code_id": first.code.code_id, "code_name": first.code.name,
            "source": Source.RULE, "next_attempt_at": timezone.now()}  # fmt: skip
    Assignment.objects.create(participant_id="p1", state=State.APPLIED, rule=first, **base)
    Assignment.objects.create(participant_id="p2", state=State.APPLIED, rule=first, **base)
    Assignment.objects.create(participant_id="p3", state=State.FAILED, rule=first, **base)
    Assignment.objects.create(participant_id="p4", state=State.APPLIED, **base | {"source": Source.PERSON})
    page = admin_client.get("/rules/")
    rows = list(page.context["rules"])
    assert [r.name for r in rows] == ["first", "second"]
    assert (rows[0].coded_today, rows[0].failed_today, rows[1].coded_today) == (2, 1, 0)
    assert second.pk


def test_the_form_creates_a_rule_and_shows_the_services_refusal(queue: CodeGroup, admin_client: Client) -> None:
    own = queue.codes.order_by("name").first()
    other = WrapupCode.objects.exclude(memberships__group=queue).order_by("name").first()
    post = {"name": "Voice", "queue": queue.pk, "code": other.pk, "enabled": "on", "only_without_code": "on",
            "media_types": ["voice"], "user_ids": "u1, u2", "ani_pattern": "+1555*"}  # fmt: skip
    refused = admin_client.post("/rules/new/", post)
    assert refused.status_code == 200 and not Rule.objects.exists()
    assert escape(CODE_NOT_OFFERED_BY_QUEUE.format(code=other.name, queue=queue.name)) in refused.content.decode()
    assert admin_client.post("/rules/new/", post | {"code": own.pk}).status_code == 302
    rule = Rule.objects.get()
    assert rule.code == own and rule.user_ids == ["u1", "u2"] and rule.media_types == ["voice"] and rule.enabled
    edit = admin_client.get(f"/rules/{rule.pk}/")
    assert edit.status_code == 200 and "u1, u2" in edit.content.decode()


def test_toggle_move_and_delete_are_posts_and_audited(queue: CodeGroup, admin_client: Client) -> None:
    a, b = make(queue, "a"), make(queue, "b")
    admin_client.post(f"/rules/{a.pk}/toggle/", {"enabled": "0"})
    assert not Rule.objects.get(pk=a.pk).enabled
    admin_client.post(f"/rules/{b.pk}/move/", {"direction": "up"})
    assert list(Rule.objects.values_list("name", flat=True)) == ["b", "a"]
    assert admin_client.get(f"/rules/{a.pk}/delete/").status_code == 200 and Rule.objects.filter(pk=a.pk).exists()
    admin_client.post(f"/rules/{a.pk}/delete/")
    assert not Rule.objects.filter(pk=a.pk).exists()
    assert AuditEvent.objects.filter(action=Action.RULE_DELETED, actor_username="admin").count() == 1


def test_the_dry_run_page_asks_genesys_only_when_run(queue: CodeGroup, admin_client: Client, monkeypatch: Any) -> None:
    make(queue, "a")
    calls: list[int] = []
    monkeypatch.setattr(rule_views, "get_genesys_client", lambda: calls.append(1) or build_genesys_client())
    page = admin_client.get("/rules/dry-run/")
    assert page.status_code == 200 and page.context["result"] is None and not calls
    ran = admin_client.get("/rules/dry-run/?run=1")
    assert ran.status_code == 200 and calls == [1] and [r.rule.name for r in ran.context["result"].rules] == ["a"]


def test_the_dry_run_counts_each_leg_for_the_first_rule_that_would_take_it(queue: CodeGroup, catalog: Any) -> None:
    # Overriding rules match every leg of the queue that does not already carry their code.
    first = make(queue, "first", only_without_code=False, override_agent_code=True)
    second = make(queue, "second", only_without_code=False, override_agent_code=True, code=queue.codes.order_by("name")[1])
    make(queue, "disabled", enabled=False)
    result = rule_dry_run(client=build_genesys_client(), now=sandbox_now(catalog))
    rows = {row.rule.name: row for row in result.rules}
    assert set(rows) == {"first", "second"}
    assert rows["first"].count > 0, "the sandbox's history has legs on this queue in the last 24 hours"
    # The second rule only gets legs that already carry the first rule's code.
    assert all(leg.code == first.code.code_id for _, leg in rows["second"].legs)
    assert rows["first"].count + rows["second"].count <= result.legs_seen
    assert len(rows["first"].legs) == min(rows["first"].count, DRY_RUN_SHOWN)
    assert all(leg.queue_id == queue.queue_id for row in rows.values() for _, leg in row.legs)
    assert second.pk
