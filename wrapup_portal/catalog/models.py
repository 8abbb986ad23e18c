"""The portal's copy of the Genesys wrap-up catalog.

A *code group* is a Genesys queue's set of wrap-up codes (Genesys has no other grouping);
the org-wide list of codes is what they are drawn from. Codes are never deleted: one that
disappears from Genesys is marked retired and keeps its name, because assignments and
audit events refer to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q


class WrapupPrompt(models.TextChoices):
    """`Queue.acwSettings.wrapupPrompt` as Genesys spells it."""

    OPTIONAL = "OPTIONAL", "Optional"
    MANDATORY = "MANDATORY", "Mandatory"
    MANDATORY_TIMEOUT = "MANDATORY_TIMEOUT", "Mandatory, time-boxed"
    MANDATORY_FORCED_TIMEOUT = "MANDATORY_FORCED_TIMEOUT", "Time-boxed, no early exit"
    AGENT_REQUESTED = "AGENT_REQUESTED", "Agent requested"


def wrapup_prompt_label(value: str) -> str:
    """The admin's words for a prompt; a value Genesys added later is shown as it comes."""
    return WrapupPrompt(value).label if value in WrapupPrompt.values else value


def acw_timeout_text(timeout_ms: int | None) -> str:
    """60000 -> "60 s" (90500 -> "90.5 s"); empty when there is no timeout."""
    if timeout_ms is None:
        return ""
    seconds = timeout_ms / 1000
    return f"{seconds:.0f} s" if seconds == int(seconds) else f"{seconds:.1f} s"


class CodeGroup(models.Model):
    """One Genesys queue and the wrap-up codes it offers."""

    queue_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    division_id = models.CharField(max_length=64, blank=True)
    division_name = models.CharField(max_length=255, blank=True)
    wrapup_prompt = models.CharField(max_length=32, blank=True)
    acw_timeout_ms = models.PositiveIntegerField(null=True, blank=True)
    # Chosen by an admin: only synced groups have their codes refreshed (all, while none is chosen).
    synced = models.BooleanField(default=False)
    first_seen_at = models.DateTimeField()
    # Only written when something about the group changes, so an unchanged sync writes no
    # rows; "last synced" comes from the sync runs (catalog.selectors).
    changed_at = models.DateTimeField()
    # Set when the queue disappeared from Genesys; the group stays for history.
    removed_at = models.DateTimeField(null=True, blank=True)
    codes = models.ManyToManyField("WrapupCode", through="Membership", related_name="groups")

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["synced", "name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def wrapup_prompt_label(self) -> str:
        return wrapup_prompt_label(self.wrapup_prompt)

    @property
    def acw_timeout_text(self) -> str:
        return acw_timeout_text(self.acw_timeout_ms)


class WrapupCode(models.Model):
    """A Genesys wrap-up code as last seen; retired once Genesys no longer lists it."""

    code_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    division_id = models.CharField(max_length=64, blank=True)
    division_name = models.CharField(max_length=255, blank=True)
    first_seen_at = models.DateTimeField()
    changed_at = models.DateTimeField()
    # When it was retired, and the last time a sync still saw it in Genesys.
    retired_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def active(self) -> bool:
        return self.retired_at is None


class Membership(models.Model):
    """Code C is offered by queue Q (as of the last sync that saw Q)."""

    group = models.ForeignKey(CodeGroup, on_delete=models.CASCADE, related_name="memberships")
    code = models.ForeignKey(WrapupCode, on_delete=models.PROTECT, related_name="memberships")
    added_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "code"], name="catalog_membership_unique")]


class SyncRun(models.Model):
    """One sync of the catalog with Genesys: who started it, what it read, what it changed."""

    class Trigger(models.TextChoices):
        MANUAL = "manual", "Sync now"
        SCHEDULE = "schedule", "Schedule"
        CLI = "cli", "Command line"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # Empty: every synced queue (all queues while none is chosen).
    queue_ids = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    # True while the run holds the lock: a unique column that allows many NULLs, so two
    # runs can never be running at once on any database.
    lock = models.BooleanField(null=True, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    phase = models.CharField(max_length=64, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    # The changes the run lists (SyncChange rows), by what happened: added (codes, queues),
    # changed (renames, settings, codes joining or leaving a queue), retired (codes, queues).
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    retired = models.PositiveIntegerField(default=0)
    # The first sync copies an empty catalog: that is no drift, so it lists no changes and
    # says how much it copied instead.
    first_sync = models.BooleanField(default=False)
    queues_copied = models.PositiveIntegerField(default=0)
    codes_copied = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(lock=True) | Q(lock__isnull=True), name="catalog_syncrun_lock_true_or_null")]

    def __str__(self) -> str:
        return f"Sync #{self.pk} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    @property
    def percent(self) -> int:
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else 0

    @property
    def summary(self) -> str:
        """What a succeeded run did, in the words every page and the CLI use."""
        if self.first_sync:
            return f"first sync: {self.queues_copied} queues and {self.codes_copied} codes copied"
        return f"{self.added} added, {self.changed} changed, {self.retired} retired"


class SyncChange(models.Model):
    """One difference a sync run found between the portal's copy and Genesys (the drift)."""

    class Kind(models.TextChoices):
        CODE_ADDED = "code_added", "Code added"
        CODE_RENAMED = "code_renamed", "Code renamed"
        CODE_CHANGED = "code_changed", "Code details changed"
        CODE_RETIRED = "code_retired", "Code retired"
        CODE_RESTORED = "code_restored", "Code back in Genesys"
        QUEUE_ADDED = "queue_added", "Queue added"
        QUEUE_RENAMED = "queue_renamed", "Queue renamed"
        QUEUE_CHANGED = "queue_changed", "Queue settings changed"
        QUEUE_REMOVED = "queue_removed", "Queue removed"
        CODE_JOINED_QUEUE = "code_joined_queue", "Code added to queue"
        CODE_LEFT_QUEUE = "code_left_queue", "Code removed from queue"

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    code = models.ForeignKey(WrapupCode, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    group = models.ForeignKey(CodeGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]

    @property
    def details(self) -> list[FieldChange]:
        """The fields worth showing, readable: all of an addition, only what differs of a change."""
        if not self.after:
            return []  # retired, removed, left a queue: the row's kind and names say it all
        names = [n for n in FIELD_ORDER if any(key in self.after for key in FIELD_KEYS[n])]
        if not self.before:  # added: the Queue or Code column already names it
            return [FieldChange(FIELD_LABELS[n], "", _shown(n, self.after)) for n in names if n != "name"]
        changes = []
        for n in names:
            if _raw(n, self.before) == _raw(n, self.after):
                continue
            before, after = _shown(n, self.before), _shown(n, self.after)
            if before == after:  # e.g. a division with the same name but another id
                before, after = (f"{text} (id {_raw(n, values)[-1] or EMPTY})"
                                 for text, values in ((before, self.before), (after, self.after)))
            changes.append(FieldChange(FIELD_LABELS[n], before, after))
        return changes


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


# What a change's before/after dicts hold, shown in this order (the division as one field,
# by name). "code" (a membership change) is left out: the row's Code column names it.
FIELD_ORDER = ("name", "description", "division", "wrapup_prompt", "acw_timeout_ms")
FIELD_KEYS = {"name": ("name",), "description": ("description",), "division": ("division_name", "division_id"),
              "wrapup_prompt": ("wrapup_prompt",), "acw_timeout_ms": ("acw_timeout_ms",)}
FIELD_LABELS = {"name": "Name", "description": "Description", "division": "Division",
                "wrapup_prompt": "Wrap-up prompt", "acw_timeout_ms": "ACW timeout"}
EMPTY = "none"


def _raw(name: str, values: dict[str, Any]) -> tuple[Any, ...]:
    return tuple("" if values.get(key) is None else values[key] for key in FIELD_KEYS[name])


def _shown(name: str, values: dict[str, Any]) -> str:
    if name == "division":
        text = values.get("division_name") or values.get("division_id") or ""
    elif name == "wrapup_prompt":
        text = wrapup_prompt_label(values.get(name) or "")
    elif name == "acw_timeout_ms":
        text = acw_timeout_text(values.get(name))
    else:
        text = str(values.get(name) or "")
    return text or EMPTY
