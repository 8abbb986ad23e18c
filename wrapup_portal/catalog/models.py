"""The portal's copy of the Genesys wrap-up catalog.

A *code group* is a Genesys queue's set of wrap-up codes (Genesys has no other grouping);
the org-wide list of codes is what they are drawn from. Codes are never deleted: one that
disappears from Genesys is marked retired and keeps its name, because assignments and
audit events refer to it.
"""

from __future__ import annotations

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
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    retired = models.PositiveIntegerField(default=0)
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
