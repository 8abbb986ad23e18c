"""Auto-assign rules: matching (first match wins, codes and override), validation, audit."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from integrations.genesys import AnalyticsConversation, Conversation
from tests.assignments.conftest import codes
from wrapup_portal.assignments.models import Rule
from wrapup_portal.assignments.rule_services import (
    BAD_PATTERN,
    BAD_TEMPLATE,
    CODE_NOT_OFFERED_BY_QUEUE,
    CODE_RETIRED,
    DUPLICATE_NAME,
    MIN_OVER_MAX,
    OVERRIDE_CONFLICT,
    RuleData,
    rule_create,
    rule_delete,
    rule_move,
    rule_set_enabled,
    rule_update,
)
from wrapup_portal.assignments.rules import (
    RuleLeg,
    rule_for_leg,
    rule_leg_from_analytics,
    rule_leg_from_participant,
    rule_notes,
)
from wrapup_portal.audit.models import Action, AuditEvent
from wrapup_portal.audit.services import Actor
from wrapup_portal.catalog.models import CodeGroup, WrapupCode

ACTOR = Actor.cli("tester")


def foreign_code(queue: CodeGroup) -> WrapupCode:
    return WrapupCode.objects.exclude(memberships__group=queue).order_by("name").first()


def data(queue: CodeGroup, **overrides: Any) -> RuleData:
    values: dict[str, Any] = {"name": "Voice sales", "queue": queue, "code": codes(queue)[0]} | overrides
    return RuleData(**values)


def leg(queue: CodeGroup, **overrides: Any) -> RuleLeg:
    base = RuleLeg(queue_id=queue.queue_id, media_type="voice", direction="inbound", ani="tel:+15551234567",
                   dnis="tel:+18005550100", user_id="u1", team_id="t1", talk_seconds=90, disconnect_type="peer",
                   code="", conversation_id="c1", participant_id="p1", agent_name="Ann")  # fmt: skip
    return replace(base, **overrides)


# --- matching -------------------------------------------------------------------------------------
def test_first_enabled_rule_by_priority_wins(queue: CodeGroup) -> None:
    first, second = codes(queue)[:2]
    late = rule_create(data=data(queue, name="late", code=second, priority=5), actor=ACTOR)
    early = rule_create(data=data(queue, name="early", code=first, priority=1), actor=ACTOR)
    assert rule_for_leg(leg(queue)) == early
    rule_set_enabled(rule=early, enabled=False, actor=ACTOR)
    assert rule_for_leg(leg(queue)) == late
    assert rule_for_leg(leg(queue, queue_id="another-queue")) is None


def test_a_leg_already_carrying_the_rules_code_needs_nothing_and_no_later_rule_takes_it(queue: CodeGroup) -> None:
    first, second = codes(queue)[:2]
    rule_create(data=data(queue, name="a", code=first, priority=1, only_without_code=False, override_agent_code=True), actor=ACTOR)
    rule_create(data=data(queue, name="b", code=second, priority=2, only_without_code=False, override_agent_code=True), actor=ACTOR)
    assert rule_for_leg(leg(queue, code=first.code_id)) is None
    assert rule_for_leg(leg(queue, code=second.code_id)).name == "a"


def test_conditions_each_narrow_the_match(queue: CodeGroup) -> None:
    rule = rule_create(data=data(queue, media_types=["voice"], direction="inbound", ani_pattern="+1555*",
                                 dnis_pattern="+1800555010?", user_ids=["u1"], team_ids=["t1"], talk_seconds_min=60,
                                 talk_seconds_max=120, disconnect_types=["peer", "client"]), actor=ACTOR)  # fmt: skip
    assert rule_for_leg(leg(queue)) == rule
    misses = [{"media_type": "chat"}, {"direction": "outbound"}, {"ani": "tel:+4420123"}, {"dnis": "tel:+18005550199"},
              {"user_id": "u2"}, {"user_id": ""}, {"team_id": "t2"}, {"talk_seconds": 59}, {"talk_seconds": 121}, {"talk_seconds": None},
              {"disconnect_type": "transfer"}]  # fmt: skip
    for change in misses:
        assert rule_for_leg(leg(queue, **change)) is None, change
    assert rule_for_leg(leg(queue, disconnect_type="CLIENT", ani="+15550000000", user_id="U1")) == rule


def test_a_real_code_is_kept_unless_the_rule_overrides_and_system_codes_count_as_none(queue: CodeGroup) -> None:
    first, second = codes(queue)[:2]
    keep = rule_create(data=data(queue, name="keep", code=first), actor=ACTOR)
    assert rule_for_leg(leg(queue, code=second.code_id)) is None
    assert rule_for_leg(leg(queue, code="ININ-WRAP-UP-TIMEOUT")) == keep
    rule_update(rule=keep, data=data(queue, name="keep", code=first, only_without_code=False), actor=ACTOR)
    assert rule_for_leg(leg(queue, code=second.code_id)) is None  # not limited, but still no override
    rule_update(rule=keep, data=data(queue, name="keep", code=first, only_without_code=False, override_agent_code=True), actor=ACTOR)
    assert rule_for_leg(leg(queue, code=second.code_id)) == keep


def test_notes_template_is_filled_in(queue: CodeGroup) -> None:
    rule = rule_create(data=data(queue, notes_template="{agent} on {queue}: {conversation_id} {ani}"), actor=ACTOR)
    assert rule_notes(rule, leg(queue)) == f"Ann on {queue.name}: c1 +15551234567"


def test_rule_legs_from_both_apis_agree() -> None:
    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)

    def iso(delta: int) -> str:
        return (t0 + timedelta(seconds=delta)).isoformat().replace("+00:00", "Z")

    conversation = Conversation.from_api({"id": "c1", "participants": [
        {"id": "cust", "purpose": "customer", "ani": "tel:+15551234567", "dnis": "tel:+18005550100"},
        {"id": "p1", "purpose": "agent", "userId": "u1", "teamId": "t1", "queueId": "q1", "name": "Ann",
         "wrapup": {"code": "ININ-WRAP-UP-TIMEOUT"},
         "calls": [{"id": "k1", "state": "disconnected", "direction": "inbound", "connectedTime": iso(5),
                    "disconnectedTime": iso(95), "disconnectType": "PEER"}]}]})  # fmt: skip
    from_conversation = rule_leg_from_participant(conversation, conversation.participant("p1"))
    analytics = AnalyticsConversation.from_api({"conversationId": "c1", "conversationStart": iso(0), "participants": [
        {"participantId": "p1", "purpose": "agent", "userId": "u1", "teamId": "t1", "participantName": "Ann",
         "sessions": [{"mediaType": "voice", "direction": "inbound", "ani": "tel:+15551234567", "dnis": "tel:+18005550100",
                       "segments": [{"segmentType": "alert", "segmentStart": iso(0), "segmentEnd": iso(5), "queueId": "q1"},
                                    {"segmentType": "interact", "segmentStart": iso(5), "segmentEnd": iso(95), "queueId": "q1",
                                     "disconnectType": "peer"},
                                    {"segmentType": "wrapup", "segmentStart": iso(95), "queueId": "q1",
                                     "wrapUpCode": "ININ-WRAP-UP-TIMEOUT"}]}]}]})  # fmt: skip
    from_analytics = rule_leg_from_analytics(analytics, analytics.participants[0])
    expected = RuleLeg("q1", "voice", "inbound", "tel:+15551234567", "tel:+18005550100", "u1", "t1", 90, "peer",
                       "ININ-WRAP-UP-TIMEOUT", "c1", "p1", "Ann")  # fmt: skip
    assert from_conversation == expected and from_analytics == expected
    assert not expected.code_chosen


# --- validation: a message from the module, nothing created -------------------------------------
@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"ani_pattern": "+1 555*"}, "ani_pattern", BAD_PATTERN.format(value="+1 555*")),
        ({"dnis_pattern": "+1[0-9*"}, "dnis_pattern", BAD_PATTERN.format(value="+1[0-9*")),
        ({"talk_seconds_min": 30, "talk_seconds_max": 10}, "talk_seconds_max", MIN_OVER_MAX.format(low=30, high=10)),
        ({"override_agent_code": True}, "override_agent_code", OVERRIDE_CONFLICT),
    ],
)
def test_bad_conditions_are_refused_and_create_nothing(queue: CodeGroup, overrides: dict, field: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        rule_create(data=data(queue, **overrides), actor=ACTOR)
    assert caught.value.message_dict[field] == [message]
    assert not Rule.objects.exists() and not AuditEvent.objects.filter(action=Action.RULE_CREATED).exists()


def test_a_code_the_queue_does_not_offer_is_refused(queue: CodeGroup) -> None:
    other = foreign_code(queue)
    with pytest.raises(ValidationError) as caught:
        rule_create(data=data(queue, code=other), actor=ACTOR)
    assert caught.value.message_dict["code"] == [CODE_NOT_OFFERED_BY_QUEUE.format(code=other.name, queue=queue.name)]
    assert not Rule.objects.exists()


def test_a_template_with_an_unknown_or_unsafe_placeholder_is_refused(queue: CodeGroup) -> None:
    for template in ("{customer}", "{agent.__class__}", "{agent!r}", "{agent", "{0}"):
        with pytest.raises(ValidationError) as caught:
            rule_create(data=data(queue, notes_template=template), actor=ACTOR)
        assert caught.value.message_dict["notes_template"][0].startswith(BAD_TEMPLATE.split("{")[0]), template
    assert not Rule.objects.exists()


def test_a_retired_code_is_refused(queue: CodeGroup) -> None:
    code = codes(queue)[0]
    WrapupCode.objects.filter(pk=code.pk).update(retired_at=queue.changed_at)
    code.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        rule_create(data=data(queue, code=code), actor=ACTOR)
    assert caught.value.message_dict["code"] == [CODE_RETIRED.format(code=code.name)]
    assert not Rule.objects.exists()


def test_a_duplicate_name_is_refused(queue: CodeGroup) -> None:
    rule_create(data=data(queue), actor=ACTOR)
    with pytest.raises(ValidationError) as caught:
        rule_create(data=data(queue, code=codes(queue)[1]), actor=ACTOR)
    assert caught.value.message_dict["name"] == [DUPLICATE_NAME.format(name="Voice sales")]
    assert Rule.objects.count() == 1


# --- audit ----------------------------------------------------------------------------------------
def test_every_change_is_audited_with_before_and_after(queue: CodeGroup) -> None:
    rule = rule_create(data=data(queue), actor=ACTOR)
    created = AuditEvent.objects.get(action=Action.RULE_CREATED)
    assert created.extra["before"] is None and created.extra["after"]["name"] == "Voice sales"
    assert created.target_id == str(rule.pk) and created.actor_username == "tester"

    rule_update(rule=rule, data=data(queue, ani_pattern="+1555*", priority=rule.priority), actor=ACTOR)
    changed = AuditEvent.objects.filter(action=Action.RULE_CHANGED).latest("sequence")
    assert changed.extra["before"]["ani_pattern"] == "" and changed.extra["after"]["ani_pattern"] == "+1555*"
    rule_update(rule=rule, data=data(queue, ani_pattern="+1555*", priority=rule.priority), actor=ACTOR)
    assert AuditEvent.objects.filter(action=Action.RULE_CHANGED).count() == 1  # nothing changed, nothing audited

    rule_set_enabled(rule=rule, enabled=False, actor=ACTOR)
    toggled = AuditEvent.objects.filter(action=Action.RULE_CHANGED).latest("sequence")
    assert toggled.extra["before"]["enabled"] is True and toggled.extra["after"]["enabled"] is False

    rule_delete(rule=rule, actor=ACTOR)
    deleted = AuditEvent.objects.get(action=Action.RULE_DELETED)
    assert deleted.extra["before"]["name"] == "Voice sales" and deleted.extra["after"] is None
    assert not Rule.objects.exists()


def test_moving_a_rule_swaps_it_with_its_neighbour(queue: CodeGroup) -> None:
    a = rule_create(data=data(queue, name="a"), actor=ACTOR)
    b = rule_create(data=data(queue, name="b"), actor=ACTOR)
    c = rule_create(data=data(queue, name="c"), actor=ACTOR)
    rule_move(rule=c, direction="up", actor=ACTOR)
    assert list(Rule.objects.values_list("name", flat=True)) == ["a", "c", "b"]
    rule_move(rule=a, direction="up", actor=ACTOR)  # already first: nothing moves
    assert list(Rule.objects.values_list("name", flat=True)) == ["a", "c", "b"]
    moved = AuditEvent.objects.filter(action=Action.RULE_CHANGED, target_id=str(c.pk)).latest("sequence")
    assert moved.extra["before"]["priority"] == 3 and moved.extra["after"]["priority"] == 2
    assert b.pk and a.pk
