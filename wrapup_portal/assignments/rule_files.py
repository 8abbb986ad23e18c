"""Rules as code: the JSON rule file of ``import_rules`` / ``export_rules`` (DESIGN.md, Contract).

``{"rules": [{"name", "queue", "code", "enabled", "priority", "only_without_code", ...}]}``.
``queue`` and ``code`` are ids or exact names (the export writes names, which survive a move
from a test org to production); ``code`` must be one the queue offers. Import creates or
updates rules by name, in one transaction: the first problem, named by rule and key, stops it
and nothing changes. Rules the file does not name are left as they are.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from wrapup_portal.assignments.models import Rule
from wrapup_portal.assignments.rule_services import (
    RuleData,
    rule_code_resolve,
    rule_create,
    rule_queue_resolve,
    rule_snapshot,
    rule_update,
)
from wrapup_portal.audit.services import Actor
from wrapup_portal.core.storable import has_unstorable_text

# Every key a rule may have, in the order the export writes them; defaults are RuleData's.
BOOL_KEYS = ("enabled", "only_without_code", "override_agent_code")
TEXT_KEYS = ("notes_template", "direction", "ani_pattern", "dnis_pattern")
LIST_KEYS = ("media_types", "user_ids", "team_ids", "disconnect_types")
SECONDS_KEYS = ("talk_seconds_min", "talk_seconds_max")
KEYS = ("name", "queue", "code", "enabled", "priority", "only_without_code", "override_agent_code", "notes_template",
        "media_types", "direction", "ani_pattern", "dnis_pattern", "user_ids", "team_ids", "talk_seconds_min",
        "talk_seconds_max", "disconnect_types")  # fmt: skip

NOT_A_RULE_FILE = 'The file is not a rule file: it must be a JSON object {"rules": [...]}.'
NOT_JSON = "The file is not JSON: {error}."
WHERE = "Rule {name!r} (#{number}), {key}: {message}"
UNKNOWN_KEY = "unknown key; rules take: {keys}."
MUST_BE = "must be {kind}."
REPEATED = "this name is already used by rule #{number} of the file."


class RuleFileError(Exception):
    """A rule file that cannot be imported; the message names the rule and the key."""


def rules_document() -> dict[str, Any]:
    """Every rule, in priority order, as the rule file writes it."""
    rules = Rule.objects.select_related("queue", "code").order_by("priority", "id")
    return {"rules": [rule_snapshot(rule) for rule in rules]}


def rules_dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def rules_loads(text: str) -> list[Any]:
    try:
        document = json.loads(text)
    except ValueError as error:
        raise RuleFileError(NOT_JSON.format(error=error)) from None
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list) or set(document) != {"rules"}:
        raise RuleFileError(NOT_A_RULE_FILE)
    return document["rules"]


MAX_WHOLE = 2_147_483_647  # the largest value every database stores in a positive integer column
def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_WHOLE


def _check_type(key: str, value: Any) -> str | None:
    """What ``value`` must be for ``key``, when it is not that."""
    if has_unstorable_text(value):
        return "text without NUL characters or unpaired surrogates"
    if key in ("name", "queue", "code"):
        return None if isinstance(value, str) and value.strip() else "a non-empty string"
    if key in BOOL_KEYS:
        return None if isinstance(value, bool) else "true or false"
    if key == "priority":
        return None if _whole(value) else f"a whole number from 0 to {MAX_WHOLE}"
    if key in TEXT_KEYS:
        return None if value is None or isinstance(value, str) else "a string"
    if key in LIST_KEYS:
        return None if isinstance(value, list) and all(isinstance(v, str) for v in value) else "a list of strings"
    if key in SECONDS_KEYS:
        return None if value is None or _whole(value) else f"a whole number of seconds up to {MAX_WHOLE}, or null"
    return None


def _rule_data(item: Any, number: int) -> RuleData:
    name = item.get("name") if isinstance(item, dict) else None
    label = name if isinstance(name, str) and name.strip() else f"#{number}"

    def fail(key: str, message: str) -> RuleFileError:
        return RuleFileError(WHERE.format(name=label, number=number, key=key, message=message))

    if not isinstance(item, dict):
        raise fail("(rule)", MUST_BE.format(kind="a JSON object"))
    for key in item:
        if key not in KEYS:
            raise fail(key, UNKNOWN_KEY.format(keys=", ".join(KEYS)))
    for key in ("name", "queue", "code"):
        if key not in item:
            raise fail(key, "missing.")
    for key, value in item.items():
        kind = _check_type(key, value)
        if kind:
            raise fail(key, MUST_BE.format(kind=kind))
    try:
        queue = rule_queue_resolve(item["queue"])
    except ValidationError as error:
        raise fail("queue", error.messages[0]) from None
    try:
        code = rule_code_resolve(queue, item["code"])
    except ValidationError as error:
        raise fail("code", error.messages[0]) from None
    values = {k: v for k, v in item.items() if k not in ("queue", "code")}
    for key in TEXT_KEYS:
        if values.get(key, "") is None:
            values[key] = ""
    values.setdefault("priority", number)  # the rule's place in the list
    return RuleData(queue=queue, code=code, **values)


@transaction.atomic
def rules_import(*, text: str, actor: Actor) -> list[Rule]:
    """Create or update every rule of the file by name, all or nothing; raises ``RuleFileError``."""
    items = rules_loads(text)
    seen: dict[str, int] = {}
    done = []
    for number, item in enumerate(items, start=1):
        data = _rule_data(item, number)
        if data.name.strip() in seen:
            raise RuleFileError(WHERE.format(name=data.name, number=number, key="name",
                                             message=REPEATED.format(number=seen[data.name.strip()])))  # fmt: skip
        seen[data.name.strip()] = number
        existing = Rule.objects.filter(name=data.name.strip()).first()
        try:
            if existing is None:
                done.append(rule_create(data=data, actor=actor))
            else:
                done.append(rule_update(rule=existing, data=data, actor=actor))
        except ValidationError as error:
            key, messages = next(iter(error.message_dict.items()))
            # The exception leaves the atomic block: everything imported so far rolls back.
            raise RuleFileError(WHERE.format(name=data.name, number=number, key=key, message=messages[0])) from None
    return done
