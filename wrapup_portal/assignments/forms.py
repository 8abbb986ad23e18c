"""Forms of the assignment pages: they check input; the services check the business rules."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from django import forms

from wrapup_portal.accounts.roles import perm
from wrapup_portal.assignments.csv_rows import MAX_BYTES
from wrapup_portal.assignments.models import State
from wrapup_portal.assignments.selectors import codes_offered
from wrapup_portal.assignments.services import NOTES_MAX
from wrapup_portal.catalog.models import WrapupCode
from wrapup_portal.core.ids import UUID_RE
from wrapup_portal.core.widgets import FastSelect

class LegLike(Protocol):
    """What a form needs of a leg (the interactions pages' rows have it)."""

    participant_id: str
    queue_id: str
    wrapup_code: str

    @property
    def is_system(self) -> bool: ...


REASON_MAX = 1000
MAX_LEGS = 500  # a page of results holds at most 100 conversations; this leaves room and bounds a POST
NO_LEGS = "Select at least one leg first."
BAD_LEG = "A selected leg is not a conversation id/participant id pair; reload the search and select again."
TOO_MANY_LEGS = f"At most {MAX_LEGS} legs at once."
NO_FILE = "Choose a CSV file."
FILE_TOO_BIG = f"The file is larger than {MAX_BYTES // 1024 // 1024} MB."
CORRECTION_LABEL = "Reason (required: this replaces the agent's code)"


def _active_codes() -> Any:
    return WrapupCode.objects.filter(retired_at__isnull=True).order_by("name")


class CodeChoiceField(forms.ModelChoiceField):
    """A code by its Genesys id; the choices shown are narrowed per form, any active code is accepted
    (the service says whether the leg's queue offers it)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", FastSelect)  # a list of hundreds of codes, rendered on every search page
        super().__init__(_active_codes(), to_field_name="code_id", empty_label="(choose a code)", **kwargs)


class AssignForm(forms.Form):
    """One leg, one code: the detail page's form."""

    code = CodeChoiceField(label="Code")
    notes = forms.CharField(required=False, max_length=NOTES_MAX, widget=forms.Textarea(attrs={"rows": 2}))
    reason = forms.CharField(required=False, max_length=REASON_MAX, label="Reason (optional)")

    def for_leg(self, leg: LegLike) -> AssignForm:
        """Shown for this leg: only the codes its queue offers; a reason asked for when it corrects a real code."""
        self.leg = leg
        self.fields["code"].queryset = codes_offered(queue_ids=[leg.queue_id])  # type: ignore[attr-defined]
        if leg.wrapup_code and not leg.is_system:  # the service insists too; this tells before the round trip
            self.fields["reason"].label = CORRECTION_LABEL
            self.fields["reason"].widget.attrs["required"] = "required"
        return self


def assign_forms(*, legs: Iterable[LegLike], user: Any, allowed: set[str] | None,
                 failed: tuple[str, AssignForm] | None = None) -> list[AssignForm]:  # fmt: skip
    """One form per agent leg the user may assign (their queues); a refused one comes back bound, with its errors."""
    if not user.has_perm(perm("assign_wrapup")):
        return []
    forms_: list[AssignForm] = []
    for leg in legs:
        if allowed is not None and leg.queue_id not in allowed:
            continue
        if failed is not None and failed[0] == leg.participant_id:
            forms_.append(failed[1].for_leg(leg))
        else:
            forms_.append(AssignForm(auto_id=f"id_{leg.participant_id}_%s").for_leg(leg))
    return forms_


class LegsField(forms.Field):
    """Legs as ``conversation id/participant id`` values (the search page's checkboxes), deduplicated."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[tuple[str, str]]:
        values = [v for v in (value or []) if v]
        if not values:
            raise forms.ValidationError(NO_LEGS, code="required")
        if len(values) > MAX_LEGS:
            raise forms.ValidationError(TOO_MANY_LEGS, code="too_many")
        legs: list[tuple[str, str]] = []
        for raw in values:
            cid, _, pid = str(raw).strip().partition("/")
            if not (UUID_RE.match(cid) and UUID_RE.match(pid)):
                raise forms.ValidationError(BAD_LEG, code="leg")
            legs.append((cid.lower(), pid.lower()))
        return list(dict.fromkeys(legs))

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple) and value and isinstance(value[0], tuple):
            return [f"{cid}/{pid}" for cid, pid in value]
        return value


class ConfirmFields(forms.Form):
    """What a confirm carries besides its rows: the preview's digest and the explicit skip choice."""

    digest = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    skip_invalid = forms.BooleanField(required=False, widget=forms.HiddenInput)


class BulkForm(ConfirmFields):
    """Legs selected on the search page, one code for all of them."""

    leg = LegsField()
    code = CodeChoiceField(label="Code for the selected legs")
    notes = forms.CharField(required=False, max_length=NOTES_MAX, label="Notes (optional)")
    reason = forms.CharField(required=False, max_length=REASON_MAX, label="Reason (optional)")

    def __init__(self, *args: Any, queue_ids: set[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if queue_ids is not None:
            self.fields["code"].queryset = codes_offered(queue_ids=queue_ids)  # type: ignore[attr-defined]


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV file", error_messages={"required": NO_FILE},
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))  # fmt: skip
    reason = forms.CharField(required=False, max_length=REASON_MAX, label="Reason (optional)")

    def __init__(self, *args: Any, too_large: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if too_large:  # skipped while it streamed in (core.uploads): "no file" is really "too big"
            self.fields["file"].error_messages = {**self.fields["file"].error_messages, "required": FILE_TOO_BIG}

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(FILE_TOO_BIG, code="size")
        return upload


class UploadConfirmForm(ConfirmFields):
    upload = forms.CharField(max_length=64, widget=forms.HiddenInput)  # the key of the file kept in the session
    reason = forms.CharField(required=False, max_length=REASON_MAX, widget=forms.HiddenInput)


class StateFilterForm(forms.Form):
    state = forms.MultipleChoiceField(choices=State.choices, required=False, widget=forms.CheckboxSelectMultiple)
    page = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

