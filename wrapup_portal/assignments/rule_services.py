"""Writes for auto-assign rules: create, change, delete, enable, reorder, import a rule file.

Every write validates first (a ``ValidationError`` keyed by field changes nothing) and writes
its audit event, with the rule before and after, in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from integrations.genesys.query import DIRECTIONS, MEDIA_TYPES
from wrapup_portal.assignments.models import Rule
from wrapup_portal.assignments.rules import TEMPLATE_KEYS, template_fields
from wrapup_portal.assignments.services import NOTES_MAX
from wrapup_portal.audit.models import Action
from wrapup_portal.audit.services import Actor, audit_record
from wrapup_portal.catalog.models import CodeGroup, Membership, WrapupCode

NAME_NEEDED = "A rule needs a name."
DUPLICATE_NAME = "Another rule is already called {name!r}; rule names are unique."
CODE_NOT_OFFERED_BY_QUEUE = "The code {code!r} is not offered by the queue {queue!r}; choose one of that queue's codes."
CODE_RETIRED = "The code {code!r} is retired: Genesys no longer has it, so a rule cannot write it."
UNKNOWN_QUEUE = "No synced queue has the id or exact name {value!r}."
AMBIGUOUS_QUEUE = "Several queues are called {value!r}; give the queue's id."
UNKNOWN_QUEUE_CODE = "The queue {queue!r} offers no code with the id or exact name {value!r}."
BAD_PATTERN = ("{value!r} is not a pattern: use a glob of digits, letters, + @ . _ - and the wildcards * ? [0-9] "
               "(no spaces, brackets closed).")  # fmt: skip
BAD_TEMPLATE = "The notes template is not valid: {problem}. Placeholders: {keys}."
UNKNOWN_PLACEHOLDER = "unknown placeholder {{{field}}}"
TEMPLATE_TOO_LONG = f"the template is longer than {NOTES_MAX} characters"
MIN_OVER_MAX = "The shortest talk time ({low} s) is longer than the longest ({high} s)."
UNKNOWN_MEDIA = "Unknown media type {value!r}; one of: {choices}."
UNKNOWN_DIRECTION = "The direction is 'inbound', 'outbound' or empty (any), not {value!r}."
BAD_ID = "{value!r} is not an id."
BAD_DISCONNECT = "{value!r} is not a disconnect type (such as endpoint, client, peer, transfer, system, timeout)."
OVERRIDE_CONFLICT = ("A rule that overrides the agent's code must also apply to legs that have one: "
                     "turn 'only without a code' off, or overriding off.")  # fmt: skip
NOT_NEGATIVE = "A duration is a whole number of seconds, 0 or more."
MOVE_DIRECTIONS = ("up", "down")

PATTERN_RE = re.compile(r"^[0-9A-Za-z+@._:*?\[\]!-]{1,100}$")
ID_RE = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
DISCONNECT_RE = re.compile(r"^[a-z][a-z._]{1,39}$")


@dataclass
class RuleData:
    """A rule's fields as a form or a rule file gives them; queue and code already resolved."""

    name: str
    queue: CodeGroup
    code: WrapupCode
    enabled: bool = True
    priority: int | None = None  # None: after the last rule
    only_without_code: bool = True
    override_agent_code: bool = False
    notes_template: str = ""
    media_types: list[str] = field(default_factory=list)
    direction: str = ""
    ani_pattern: str = ""
    dnis_pattern: str = ""
    user_ids: list[str] = field(default_factory=list)
    team_ids: list[str] = field(default_factory=list)
    talk_seconds_min: int | None = None
    talk_seconds_max: int | None = None
    disconnect_types: list[str] = field(default_factory=list)


DATA_FIELDS = tuple(f.name for f in fields(RuleData))


def rule_snapshot(rule: Rule) -> dict[str, Any]:
    """The rule as a rule file writes it (queue and code by name), plus their ids: audit before/after."""
    return {
        "name": rule.name, "queue": rule.queue.name, "code": rule.code.name, "enabled": rule.enabled,
        "priority": rule.priority, "only_without_code": rule.only_without_code,
        "override_agent_code": rule.override_agent_code, "notes_template": rule.notes_template,
        "media_types": list(rule.media_types), "direction": rule.direction, "ani_pattern": rule.ani_pattern,
        "dnis_pattern": rule.dnis_pattern, "user_ids": list(rule.user_ids), "team_ids": list(rule.team_ids),
        "talk_seconds_min": rule.talk_seconds_min, "talk_seconds_max": rule.talk_seconds_max,
        "disconnect_types": list(rule.disconnect_types),
    }  # fmt: skip


# --- resolving names (forms and rule files) -------------------------------------------------------
def rule_queue_resolve(value: str) -> CodeGroup:
    """A code group by queue id, else by exact name."""
    value = (value or "").strip()
    found = CodeGroup.objects.filter(queue_id=value.lower()).first() if value else None
    if found is None and value:
        named = list(CodeGroup.objects.filter(name=value)[:2])
        if len(named) > 1:
            raise ValidationError(AMBIGUOUS_QUEUE.format(value=value), code="ambiguous_queue")
        found = named[0] if named else None
    if found is None:
        raise ValidationError(UNKNOWN_QUEUE.format(value=value[:100]), code="unknown_queue")
    return found


def rule_code_resolve(queue: CodeGroup, value: str) -> WrapupCode:
    """One of the queue's own codes by id, else by exact name."""
    value = (value or "").strip()
    offered = WrapupCode.objects.filter(memberships__group=queue)
    found = offered.filter(code_id=value.lower()).first() if value else None
    if found is None and value:
        found = offered.filter(name=value).order_by("retired_at", "id").first()
    if found is None:
        raise ValidationError(UNKNOWN_QUEUE_CODE.format(queue=queue.name, value=value[:100]), code="unknown_code")
    return found


# --- validation -----------------------------------------------------------------------------------
def _template_problem(template: str) -> str | None:
    if len(template) > NOTES_MAX:
        return TEMPLATE_TOO_LONG
    try:
        found = template_fields(template)
    except ValueError as error:
        return str(error)
    unknown = next((f for f in found if f not in TEMPLATE_KEYS), None)
    return UNKNOWN_PLACEHOLDER.format(field=unknown) if unknown is not None else None


def _pattern_ok(pattern: str) -> bool:
    if not PATTERN_RE.match(pattern):
        return False
    depth = 0
    for char in pattern:  # globs take an unclosed "[" literally; an author almost never means that
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth not in (0, 1):
            return False
    return depth == 0


def rule_validate(data: RuleData, *, instance: Rule | None = None) -> None:
    """Check a rule's business rules; ``ValidationError`` keyed by field with every problem found."""
    errors: dict[str, list[ValidationError]] = {}

    def fail(name: str, message: str, code: str) -> None:
        errors.setdefault(name, []).append(ValidationError(message, code=code))

    if not data.name.strip():
        fail("name", NAME_NEEDED, "required")
    elif Rule.objects.filter(name=data.name.strip()).exclude(pk=getattr(instance, "pk", None)).exists():
        fail("name", DUPLICATE_NAME.format(name=data.name.strip()), "duplicate_name")
    if not Membership.objects.filter(group=data.queue, code=data.code).exists():
        fail("code", CODE_NOT_OFFERED_BY_QUEUE.format(code=data.code.name, queue=data.queue.name), "code_not_offered")
    elif data.code.retired_at is not None:
        fail("code", CODE_RETIRED.format(code=data.code.name), "code_retired")
    problem = _template_problem(data.notes_template)
    if problem:
        fail("notes_template", BAD_TEMPLATE.format(problem=problem, keys=", ".join(f"{{{k}}}" for k in TEMPLATE_KEYS)), "bad_template")
    for name in ("ani_pattern", "dnis_pattern"):
        value = getattr(data, name)
        if value and not _pattern_ok(value):
            fail(name, BAD_PATTERN.format(value=value[:100]), "bad_pattern")
    for value in data.media_types:
        if value not in MEDIA_TYPES:
            fail("media_types", UNKNOWN_MEDIA.format(value=value, choices=", ".join(sorted(MEDIA_TYPES))), "unknown_media")
    if data.direction and data.direction not in DIRECTIONS:
        fail("direction", UNKNOWN_DIRECTION.format(value=data.direction), "unknown_direction")
    for name in ("user_ids", "team_ids"):
        for value in getattr(data, name):
            if not isinstance(value, str) or not ID_RE.match(value):
                fail(name, BAD_ID.format(value=value), "bad_id")
    for value in data.disconnect_types:
        if not isinstance(value, str) or not DISCONNECT_RE.match(value):
            fail("disconnect_types", BAD_DISCONNECT.format(value=value), "bad_disconnect")
    low, high = data.talk_seconds_min, data.talk_seconds_max
    for name, value in (("talk_seconds_min", low), ("talk_seconds_max", high)):
        if value is not None and value < 0:
            fail(name, NOT_NEGATIVE, "negative")
    if low is not None and high is not None and low > high:
        fail("talk_seconds_max", MIN_OVER_MAX.format(low=low, high=high), "min_over_max")
    if data.override_agent_code and data.only_without_code:
        fail("override_agent_code", OVERRIDE_CONFLICT, "override_conflict")
    if errors:
        raise ValidationError(errors)


def _normalise(data: RuleData) -> RuleData:
    # Conditions compare lower-case; lists keep their first-seen order without repeats.
    data.name = data.name.strip()
    data.direction = (data.direction or "").strip().lower()
    data.ani_pattern = (data.ani_pattern or "").strip()
    data.dnis_pattern = (data.dnis_pattern or "").strip()
    for name in ("media_types", "disconnect_types"):
        setattr(data, name, list(dict.fromkeys(str(v).strip().lower() for v in getattr(data, name))))
    for name in ("user_ids", "team_ids"):
        setattr(data, name, list(dict.fromkeys(str(v).strip().lower() for v in getattr(data, name))))
    return data


def _audit(rule: Rule, action: str, actor: Actor, request: HttpRequest | None, before: dict | None, after: dict | None) -> None:
    audit_record(
        action=action, actor=actor, request=request, target_kind="rule", target_id=str(rule.pk),
        queue_id=rule.queue.queue_id, code_after_id=rule.code.code_id, code_after_name=rule.code.name,
        extra={"rule": rule.name, "before": before, "after": after},
    )  # fmt: skip


# --- writes ---------------------------------------------------------------------------------------
def _next_priority() -> int:
    last = Rule.objects.order_by("-priority").values_list("priority", flat=True).first()
    return (last or 0) + 1


def rule_create(*, data: RuleData, actor: Actor, request: HttpRequest | None = None) -> Rule:
    """A new rule (after the last one unless a priority is given), audited."""
    data = _normalise(data)
    rule_validate(data)
    with transaction.atomic():
        values = asdict(data) | {"queue": data.queue, "code": data.code}
        if values["priority"] is None:
            values["priority"] = _next_priority()
        rule = Rule.objects.create(**values)
        _audit(rule, Action.RULE_CREATED, actor, request, None, rule_snapshot(rule))
    return rule


def rule_update(*, rule: Rule, data: RuleData, actor: Actor, request: HttpRequest | None = None) -> Rule:
    """Change every field of ``rule`` to ``data``; audited only when something changed."""
    data = _normalise(data)
    rule_validate(data, instance=rule)
    with transaction.atomic():
        rule = Rule.objects.select_for_update().select_related("queue", "code").get(pk=rule.pk)
        before = rule_snapshot(rule)
        values = asdict(data) | {"queue": data.queue, "code": data.code}
        if values["priority"] is None:
            values["priority"] = rule.priority
        for name, value in values.items():
            setattr(rule, name, value)
        if rule_snapshot(rule) != before:
            rule.save()
            _audit(rule, Action.RULE_CHANGED, actor, request, before, rule_snapshot(rule))
    return rule


def rule_set_enabled(*, rule: Rule, enabled: bool, actor: Actor, request: HttpRequest | None = None) -> Rule:
    with transaction.atomic():
        rule = Rule.objects.select_for_update().select_related("queue", "code").get(pk=rule.pk)
        if rule.enabled != enabled:
            before = rule_snapshot(rule)
            rule.enabled = enabled
            rule.save(update_fields=["enabled", "updated_at"])
            _audit(rule, Action.RULE_CHANGED, actor, request, before, rule_snapshot(rule))
    return rule


def rule_move(*, rule: Rule, direction: str, actor: Actor, request: HttpRequest | None = None) -> Rule:
    """Swap ``rule`` with its neighbour; priorities become 1..n, each changed rule audited."""
    if direction not in MOVE_DIRECTIONS:
        raise ValueError(f"direction must be one of {MOVE_DIRECTIONS}")
    with transaction.atomic():
        ordered = list(Rule.objects.select_for_update().select_related("queue", "code").order_by("priority", "id"))
        index = next(i for i, item in enumerate(ordered) if item.pk == rule.pk)
        other = index - 1 if direction == "up" else index + 1
        if not 0 <= other < len(ordered):
            return ordered[index]  # already first (or last): nothing moves, nothing is renumbered
        ordered[index], ordered[other] = ordered[other], ordered[index]
        for place, item in enumerate(ordered, start=1):
            if item.priority != place:
                before = rule_snapshot(item)
                item.priority = place
                item.save(update_fields=["priority", "updated_at"])
                _audit(item, Action.RULE_CHANGED, actor, request, before, rule_snapshot(item))
        return next(item for item in ordered if item.pk == rule.pk)


def rule_delete(*, rule: Rule, actor: Actor, request: HttpRequest | None = None) -> None:
    """Delete a rule; its assignments keep its name (``requested_by_name``) and lose the link."""
    with transaction.atomic():
        rule = Rule.objects.select_for_update().select_related("queue", "code").get(pk=rule.pk)
        before = rule_snapshot(rule)
        _audit(rule, Action.RULE_DELETED, actor, request, before, None)
        rule.delete()
