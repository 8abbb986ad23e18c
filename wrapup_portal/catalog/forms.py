from __future__ import annotations

from django import forms

from wrapup_portal.catalog.models import CodeGroup, SyncChange

NO_QUEUES_CHOSEN = "Choose at least one queue."


class GroupSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search queues")
    removed = forms.BooleanField(required=False, label="Show queues removed from Genesys")


class SyncedToggleForm(forms.Form):
    queue_ids = forms.MultipleChoiceField(choices=(), error_messages={"required": NO_QUEUES_CHOSEN})
    synced = forms.TypedChoiceField(choices=(("1", "Sync"), ("0", "Stop syncing")), coerce=lambda v: v == "1")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["queue_ids"].choices = [(q, q) for q in CodeGroup.objects.values_list("queue_id", flat=True)]


class DriftFilterForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "All changes"), *SyncChange.Kind.choices], required=False)
