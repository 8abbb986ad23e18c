"""Input of the audit pages: the filter (shared by the list and the exports)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import QueryDict

from wrapup_portal.audit.models import Action
from wrapup_portal.audit.selectors import AuditFilter

EXPORT_FORMATS = {"csv": "CSV", "jsonl": "JSON Lines"}
UNKNOWN_FORMAT = "Unknown export format “%(value)s”: the formats are " + ", ".join(
    f"{name} ({label})" for name, label in EXPORT_FORMATS.items()) + "."
TIME_RANGE_REVERSED = "The end of the time range must be after its start."
BAD_CURSOR = "That page link is no longer valid."
# Querystring keys of the filter: what the session remembers and exports repeat.
FILTER_KEYS = ("since", "until", "actor", "action", "conversation", "queue", "code", "outcome")
TIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]


class AuditFilterForm(forms.Form):
    since = forms.DateTimeField(
        required=False, label="From", input_formats=TIME_INPUT_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    until = forms.DateTimeField(
        required=False, label="Until", input_formats=TIME_INPUT_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    actor = forms.CharField(required=False, max_length=150, label="Actor (username, rule or job)")
    action = forms.ChoiceField(required=False, choices=[("", "any action"), *Action.choices])
    conversation = forms.CharField(required=False, max_length=64, label="Conversation id")
    queue = forms.CharField(required=False, max_length=64, label="Queue id")
    code = forms.CharField(required=False, max_length=255, label="Code (id or name, before or after)")
    outcome = forms.CharField(required=False, max_length=32)
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("since") and data.get("until") and data["until"] <= data["since"]:
            raise forms.ValidationError(TIME_RANGE_REVERSED, code="time_range")
        return data

    def to_filter(self) -> AuditFilter:
        data = self.cleaned_data
        return AuditFilter(
            since=data.get("since"),
            until=data.get("until"),
            actor=(data.get("actor") or "").strip(),
            action=data.get("action") or "",
            conversation_id=(data.get("conversation") or "").strip(),
            queue_id=(data.get("queue") or "").strip(),
            code=(data.get("code") or "").strip(),
            outcome=(data.get("outcome") or "").strip(),
        )


class ExportForm(AuditFilterForm):
    format = forms.ChoiceField(required=False, choices=list(EXPORT_FORMATS.items()),
                               error_messages={"invalid_choice": UNKNOWN_FORMAT})

    def export_format(self) -> str:
        return self.cleaned_data.get("format") or "csv"


def filter_query(data: dict[str, Any] | QueryDict) -> str:
    """The filter part of a querystring (no cursors), to remember and to repeat in links."""
    return urlencode([(key, data.get(key)) for key in FILTER_KEYS if data.get(key)])
