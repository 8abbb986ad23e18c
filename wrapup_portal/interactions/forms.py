"""The search form: what a team lead can ask, checked before any Genesys call."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from integrations.genesys.query import DIRECTIONS
from wrapup_portal.catalog.models import CodeGroup, WrapupCode
from wrapup_portal.core.ids import UUID_RE
from wrapup_portal.core.widgets import FastSelect, FastSelectMultiple
from wrapup_portal.interactions.search import Search, WrapupState

SEARCH_MEDIA = ("voice", "chat", "email", "message", "callback")

PRESETS = (
    ("last_hour", "Last hour"),
    ("today", "Today"),
    ("yesterday", "Yesterday"),
    ("last_7_days", "Last 7 days"),
    ("custom", "Custom range"),
)
END_BEFORE_START = "The end of the range must be after its start."
RANGE_TOO_LONG = "A search may cover at most {days} days; narrow the range."
RANGE_IN_FUTURE = "The range starts in the future; nothing has happened there yet."
CUSTOM_NEEDS_DATES = "A custom range needs both a start and an end."
BAD_CONVERSATION_ID = "A conversation id looks like 0ae82ce3-5c8e-4865-82d4-caa2a4e6a1de."
BAD_AGENT_ID = "An agent is given by their Genesys user id (a UUID); pick one from a result row."
CODE_NEEDED = "Choose the code to look for."


def preset_range(preset: str, now: datetime) -> tuple[datetime, datetime]:
    """(start, end) of a preset, in the current (user's) time zone: "today" is their today."""
    local = timezone.localtime(now)
    midnight = timezone.make_aware(datetime.combine(local.date(), time.min), local.tzinfo)
    if preset == "last_hour":
        return now - timedelta(hours=1), now
    if preset == "yesterday":
        return midnight - timedelta(days=1), midnight
    if preset == "last_7_days":
        return midnight - timedelta(days=6), now
    return midnight, now


class SearchForm(forms.Form):
    # Select boxes rendered in Python (core.widgets): Django's per-option templates were a third of the page.
    preset = forms.ChoiceField(choices=PRESETS, required=False, initial="today", widget=FastSelect)
    start = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    end = forms.DateTimeField(required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    queue = forms.MultipleChoiceField(required=False, label="Queues", widget=FastSelectMultiple)
    agent = forms.CharField(required=False, max_length=64, label="Agent (user id)")
    wrapup = forms.ChoiceField(choices=WrapupState.CHOICES, required=False, initial=WrapupState.ANY, label="Wrap-up",
                               widget=FastSelect)  # fmt: skip
    code = forms.ModelChoiceField(WrapupCode.objects.order_by("name"), required=False, to_field_name="code_id",
                                  label="Code", empty_label="(choose a code)", widget=FastSelect)  # fmt: skip
    media = forms.MultipleChoiceField(choices=[(m, m.capitalize()) for m in SEARCH_MEDIA], required=False, label="Media",
                                      widget=FastSelectMultiple)  # fmt: skip
    direction = forms.ChoiceField(choices=[("", "Any")] + [(d, d.capitalize()) for d in sorted(DIRECTIONS)], required=False,
                                  widget=FastSelect)  # fmt: skip
    ani = forms.CharField(required=False, max_length=200, label="ANI (from)")
    dnis = forms.CharField(required=False, max_length=200, label="DNIS (to)")
    conversation = forms.CharField(required=False, max_length=64, label="Conversation id")
    page = forms.IntegerField(required=False, min_value=1, max_value=1000, widget=forms.HiddenInput)

    def __init__(self, *args: Any, allowed: set[str] | None, now: datetime | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()
        groups = CodeGroup.objects.filter(removed_at__isnull=True).order_by("name")
        if allowed is not None:
            groups = groups.filter(queue_id__in=allowed)
        # Only the user's queues are choices: a hand-edited id of another queue is a form error.
        self.fields["queue"].choices = [(g.queue_id, g.name) for g in groups]
        if allowed is not None:  # and only codes their queues offer (retired ones still named)
            codes = WrapupCode.objects.filter(memberships__group__in=groups).distinct().order_by("name")
            self.fields["code"].queryset = codes  # type: ignore[attr-defined]

    def clean_conversation(self) -> str:
        value = self.cleaned_data["conversation"].strip()
        if value and not UUID_RE.match(value):
            raise forms.ValidationError(BAD_CONVERSATION_ID, code="conversation")
        return value.lower()

    def clean_agent(self) -> str:
        value = self.cleaned_data["agent"].strip()
        if value and not UUID_RE.match(value):
            raise forms.ValidationError(BAD_AGENT_ID, code="agent")
        return value.lower()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        preset = data.get("preset") or ("custom" if data.get("start") or data.get("end") else "today")
        data["preset"] = preset
        if preset == "custom":
            if not data.get("start") or not data.get("end"):
                if "start" not in self.errors and "end" not in self.errors:
                    self.add_error("start", forms.ValidationError(CUSTOM_NEEDS_DATES, code="dates"))
                return data
        else:
            data["start"], data["end"] = preset_range(preset, self.now)
        start, end = data["start"], data["end"]
        max_days = settings.PORTAL_SEARCH_MAX_DAYS
        if end <= start:
            self.add_error("end", forms.ValidationError(END_BEFORE_START, code="order"))
        elif end - start > timedelta(days=max_days):
            self.add_error("end", forms.ValidationError(RANGE_TOO_LONG.format(days=max_days), code="range"))
        elif start > self.now:
            self.add_error("start", forms.ValidationError(RANGE_IN_FUTURE, code="future"))
        if data.get("wrapup") == WrapupState.CODE and not data.get("code"):
            self.add_error("code", forms.ValidationError(CODE_NEEDED, code="code"))
        return data

    def search(self) -> Search:
        """The valid form as a ``Search`` (call after ``is_valid()``)."""
        data = self.cleaned_data
        code = data.get("code")
        return Search(
            start=data["start"],
            end=min(data["end"], self.now),
            queue_ids=tuple(data.get("queue") or ()),
            user_ids=(data["agent"],) if data.get("agent") else (),
            wrapup=data.get("wrapup") or WrapupState.ANY,
            code_id=code.code_id if code else None,
            media_types=tuple(data.get("media") or ()),
            direction=data.get("direction") or None,
            ani=data.get("ani") or None,
            dnis=data.get("dnis") or None,
        )
