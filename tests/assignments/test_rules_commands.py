"""`import_rules FILE` / `export_rules`: the rule file contract of DESIGN.md."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.assignments.conftest import codes
from wrapup_portal.assignments.models import Rule
from wrapup_portal.assignments.rule_services import CODE_NOT_OFFERED_BY_QUEUE
from wrapup_portal.audit.models import Action, AuditEvent
from wrapup_portal.catalog.models import CodeGroup, WrapupCode


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "rules.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    return path


def import_rules(path: Path) -> str:
    out = StringIO()
    call_command("import_rules", str(path), stdout=out)
    return out.getvalue()


def export_rules() -> dict[str, Any]:
    out = StringIO()
    call_command("export_rules", stdout=out)
    return json.loads(out.getvalue())


def refused(path: Path) -> str:
    with pytest.raises(CommandError) as caught:
        call_command("import_rules", str(path), stdout=StringIO())
    assert caught.value.returncode == 2
    return str(caught.value)


def test_import_by_id_or_name_with_the_contracts_defaults(queue: CodeGroup, tmp_path: Path) -> None:
    first, second = codes(queue)[:2]
    import_rules(write(tmp_path, {"rules": [
        {"name": "by id", "queue": queue.queue_id, "code": first.code_id},
        {"name": "by name", "queue": queue.name, "code": second.name, "enabled": False, "only_without_code": False,
         "media_types": ["voice"], "ani_pattern": "+1555*", "talk_seconds_max": 30},
    ]}))  # fmt: skip
    by_id, by_name = Rule.objects.order_by("priority")
    assert (by_id.name, by_id.code, by_id.enabled, by_id.only_without_code, by_id.priority) == ("by id", first, True, True, 1)
    assert (by_name.queue, by_name.code, by_name.enabled, by_name.only_without_code, by_name.priority) == (queue, second, False, False, 2)
    assert by_name.media_types == ["voice"] and by_name.ani_pattern == "+1555*" and by_name.talk_seconds_max == 30
    assert AuditEvent.objects.filter(action=Action.RULE_CREATED, actor_kind="cli").count() == 2


def test_import_updates_rules_by_name(queue: CodeGroup, tmp_path: Path) -> None:
    first, second = codes(queue)[:2]
    import_rules(write(tmp_path, {"rules": [{"name": "r", "queue": queue.name, "code": first.name}]}))
    import_rules(write(tmp_path, {"rules": [{"name": "r", "queue": queue.name, "code": second.name, "priority": 7}]}))
    rule = Rule.objects.get()
    assert rule.code == second and rule.priority == 7
    changed = AuditEvent.objects.get(action=Action.RULE_CHANGED)
    assert changed.extra["before"]["code"] == first.name and changed.extra["after"]["code"] == second.name


@pytest.mark.parametrize(
    ("rule", "key", "words"),
    [
        ({"name": "bad", "queue": "No such queue", "code": "x"}, "queue", "No synced queue"),
        ({"name": "bad", "code": "x"}, "queue", "missing"),
        ({"name": "bad", "enabled": "yes"}, "enabled", "true or false"),
        ({"name": "bad", "colour": "red"}, "colour", "unknown key"),
        ({"name": "bad", "ani_pattern": "+1 555"}, "ani_pattern", "not a pattern"),
        ({"name": "bad", "notes_template": "{nope}"}, "notes_template", "unknown placeholder {nope}"),
        ({"name": "bad", "talk_seconds_min": 9, "talk_seconds_max": 3}, "talk_seconds_max", "longer than the longest"),
        ({"name": "first", "priority": 4}, "name", "already used by rule #1"),
        # What a database would refuse mid-import is refused here first, naming the key.
        ({"name": "bad", "notes_template": "a\u0000b"}, "notes_template", "without NUL characters"),
        ({"name": "bad", "user_ids": ["ok", "\ud800"]}, "user_ids", "unpaired surrogates"),
        ({"name": "bad", "priority": 2**31}, "priority", "a whole number from 0 to 2147483647"),
        ({"name": "bad", "talk_seconds_min": 10**20}, "talk_seconds_min", "up to 2147483647"),
    ],
)
def test_a_bad_rule_exits_2_naming_rule_and_key_and_changes_nothing(
    queue: CodeGroup, tmp_path: Path, rule: dict[str, Any], key: str, words: str
) -> None:
    first = codes(queue)[0]
    good = {"name": "first", "queue": queue.name, "code": first.name}
    bad = {"queue": queue.name, "code": first.name} | rule
    bad = {k: v for k, v in bad.items() if not (k == "queue" and "queue" not in rule and key == "queue")}
    message = refused(write(tmp_path, {"rules": [good, bad]}))
    assert f"Rule {bad['name']!r} (#2), {key}:" in message and words in message and "Nothing was changed" in message
    assert not Rule.objects.exists() and not AuditEvent.objects.filter(action=Action.RULE_CREATED).exists()


def test_a_code_the_queue_does_not_offer_is_named(queue: CodeGroup, tmp_path: Path) -> None:
    other = WrapupCode.objects.exclude(memberships__group=queue).order_by("name").first()
    message = refused(write(tmp_path, {"rules": [{"name": "x", "queue": queue.queue_id, "code": other.code_id}]}))
    assert "Rule 'x' (#1), code:" in message and "offers no code" in message
    assert CODE_NOT_OFFERED_BY_QUEUE  # the service's own message, for forms; the file says it by id or name


def test_an_update_that_fails_later_in_the_file_rolls_back_the_earlier_ones(queue: CodeGroup, tmp_path: Path) -> None:
    first, second = codes(queue)[:2]
    import_rules(write(tmp_path, {"rules": [{"name": "kept", "queue": queue.name, "code": first.name}]}))
    before = export_rules()
    refused(write(tmp_path, {"rules": [{"name": "kept", "queue": queue.name, "code": second.name},
                                       {"name": "new", "queue": queue.name, "code": first.name, "direction": "sideways"}]}))  # fmt: skip
    assert export_rules() == before and Rule.objects.count() == 1


@pytest.mark.parametrize("text", ["not json", "[]", '{"rules": {}}', '{"rules": [], "more": 1}'])
def test_a_file_that_is_not_a_rule_file_exits_2(queue: CodeGroup, tmp_path: Path, text: str) -> None:
    assert "rule file" in refused(write(tmp_path, text)) or "not JSON" in refused(write(tmp_path, text))


def test_a_missing_file_exits_2(db: None, tmp_path: Path) -> None:
    assert "cannot read it" in refused(tmp_path / "absent.json")


def test_export_then_import_into_an_empty_database_gives_the_same_json(queue: CodeGroup, tmp_path: Path) -> None:
    first, second = codes(queue)[:2]
    import_rules(write(tmp_path, {"rules": [
        {"name": "b", "queue": queue.queue_id, "code": second.code_id, "priority": 2, "notes_template": "{agent} / {queue}",
         "direction": "inbound", "dnis_pattern": "+1800*", "user_ids": ["u1"], "team_ids": ["t1"],
         "disconnect_types": ["peer"], "talk_seconds_min": 5},
        {"name": "a", "queue": queue.queue_id, "code": first.code_id, "priority": 1, "enabled": False,
         "only_without_code": False, "override_agent_code": True, "media_types": ["voice", "chat"]},
    ]}))  # fmt: skip
    exported = export_rules()
    assert [rule["name"] for rule in exported["rules"]] == ["a", "b"]
    assert set(exported["rules"][0]) >= {"name", "queue", "code", "enabled", "priority", "only_without_code"}
    Rule.objects.all().delete()
    import_rules(write(tmp_path, exported))
    assert export_rules() == exported
