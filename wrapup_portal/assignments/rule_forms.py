"""The rule form: it checks input shapes; ``rule_services`` checks the business rules."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from integrations.genesys.query import MEDIA_TYPES
from wrapup_portal.assignments.models import Direction, Rule
from wrapup_portal.assignments.rule_services import RuleData, rule_snapshot
from wrapup_portal.catalog.models import CodeGroup, WrapupCode

SEPARATORS = re.compile(r"[\s,]+")
LIST_HELP = "Separate several with commas or spaces; empty = any."


def _split(value: str) -> list[str]:
    return [item for item in SEPARATORS.split(value or "") if item]


class RuleForm(forms.Form):
    name = forms.CharField(max_length=100)
    queue = forms.ModelChoiceField(CodeGroup.objects.filter(removed_at__isnull=True).order_by("name"), label="Queue (code group)")
    code = forms.ModelChoiceField(WrapupCode.objects.filter(retired_at__isnull=True).order_by("name"),
                                  help_text="One of the queue's own codes.")  # fmt: skip
    enabled = forms.BooleanField(required=False, initial=True)
    priority = forms.IntegerField(min_value=0, required=False, help_text="Lower goes first; empty = after the last rule.")
    only_without_code = forms.BooleanField(required=False, initial=True, label="Only when the agent has not chosen a code")
    override_agent_code = forms.BooleanField(required=False, label="Replace a code the agent chose",
                                             help_text="Needs “only when the agent has not chosen a code” off.")  # fmt: skip
    notes_template = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                     help_text="Placeholders such as {agent}, {queue}, {conversation_id}.")  # fmt: skip
    media_types = forms.MultipleChoiceField(choices=[(m, m) for m in sorted(MEDIA_TYPES)], required=False,
                                            widget=forms.CheckboxSelectMultiple, help_text="None ticked = any.")  # fmt: skip
    direction = forms.ChoiceField(choices=[("", "Any"), *Direction.choices], required=False)
    ani_pattern = forms.CharField(max_length=100, required=False, label="ANI pattern", help_text="A glob: +1555*")
    dnis_pattern = forms.CharField(max_length=100, required=False, label="DNIS pattern", help_text="A glob: +1800555010?")
    user_ids = forms.CharField(required=False, label="Agent user ids", help_text=LIST_HELP)
    team_ids = forms.CharField(required=False, label="Team ids", help_text=LIST_HELP)
    talk_seconds_min = forms.IntegerField(min_value=0, required=False, label="Talk time at least (s)")
    talk_seconds_max = forms.IntegerField(min_value=0, required=False, label="Talk time at most (s)")
    disconnect_types = forms.CharField(required=False, help_text="endpoint, client, peer, transfer… " + LIST_HELP)

    @classmethod
    def for_rule(cls, rule: Rule) -> RuleForm:
        initial: dict[str, Any] = rule_snapshot(rule) | {"queue": rule.queue, "code": rule.code}
        for name in ("user_ids", "team_ids", "disconnect_types"):
            initial[name] = ", ".join(initial[name])
        return cls(initial=initial)

    def rule_data(self) -> RuleData:
        data = dict(self.cleaned_data)
        for name in ("user_ids", "team_ids", "disconnect_types"):
            data[name] = _split(data[name])
        data["media_types"] = list(data["media_types"])
        return RuleData(**data)
