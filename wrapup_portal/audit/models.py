"""Audit: the append-only, hash-chained event log and what proves it whole.

`AuditEvent` rows are only ever inserted (database triggers refuse UPDATE and DELETE, see
`triggers.py`). `AuditChainHead` is the one row every writer locks to take the next
sequence number, so the chain cannot fork. `AuditCheckpoint` rows are signed snapshots of a
verified head: a later verification that cannot find them detects truncation.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models

from wrapup_portal.audit.chain import canonical_json


class CanonicalJSONField(models.TextField):
    """A dict kept as its canonical JSON text (sorted keys, compact), on every database.

    The chain hashes that text, so exports and verification read it as stored instead of
    parsing and re-encoding a million values (a jsonb column would hand back its own
    normalised text, which is not the canonical one).
    """

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        return None if value is None else json.loads(value)

    def to_python(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    def get_prep_value(self, value: Any) -> str | None:
        return None if value is None else canonical_json(value)


class ActorKind(models.TextChoices):
    USER = "user", "Person"
    RULE = "rule", "Rule"
    SYSTEM = "system", "System job"
    CLI = "cli", "Command line"


class Action(models.TextChoices):
    # Assignment life cycle (step 7).
    ASSIGNMENT_REQUESTED = "assignment.requested", "Assignment requested"
    ASSIGNMENT_WAITING = "assignment.waiting", "Assignment waiting for after-call work"
    ASSIGNMENT_SENDING = "assignment.sending", "Assignment write sent"
    ASSIGNMENT_RESCHEDULED = "assignment.rescheduled", "Assignment rescheduled after a try that did not apply"
    ASSIGNMENT_APPLIED = "assignment.applied", "Assignment applied"
    ASSIGNMENT_EXPIRED = "assignment.expired", "Assignment expired"
    ASSIGNMENT_FAILED = "assignment.failed", "Assignment failed"
    ASSIGNMENT_CANCELLED = "assignment.cancelled", "Assignment cancelled"
    ASSIGNMENT_SUPERSEDED = "assignment.superseded", "Assignment superseded"
    ASSIGNMENT_RETRIED = "assignment.retried", "Assignment retried"
    # Catalog sync (step 5).
    SYNC_STARTED = "sync.started", "Sync run started"
    SYNC_FINISHED = "sync.finished", "Sync run finished"
    SYNC_FAILED = "sync.failed", "Sync run failed"
    # Rules (step 8) and grants.
    RULE_CREATED = "rule.created", "Rule created"
    RULE_CHANGED = "rule.changed", "Rule changed"
    RULE_DELETED = "rule.deleted", "Rule deleted"
    GRANT_CHANGED = "grant.changed", "Queue grant changed"
    CATALOG_SETTINGS_CHANGED = "catalog.settings_changed", "Catalog settings changed"
    # Accounts.
    SIGN_IN = "auth.sign_in", "Signed in"
    SIGN_OUT = "auth.sign_out", "Signed out"
    SIGN_IN_FAILED = "auth.sign_in_failed", "Sign-in failed"
    LOCKOUT = "auth.lockout", "Locked out"
    UNLOCKED = "auth.unlocked", "Sign-in unlocked by an admin"
    PERMISSION_DENIED = "auth.permission_denied", "Permission denied"
    # Webhook (step 8).
    WEBHOOK_REJECTED = "webhook.rejected", "Webhook delivery rejected"
    # The audit log itself.
    EXPORT_DOWNLOADED = "audit.export_downloaded", "Audit export downloaded"
    ARCHIVE_WRITTEN = "audit.archive_written", "Audit archive written"
    CHAIN_VERIFY_REQUESTED = "audit.verify_requested", "Chain verification requested"
    CHAIN_CHECKPOINT = "audit.checkpoint", "Chain verified, checkpoint recorded"
    CHAIN_BROKEN = "audit.chain_broken", "Chain verification failed"


class AuditEvent(models.Model):
    """One thing that happened. Inserted once, never changed (see the triggers migration)."""

    # The sequence is the primary key: gap-free, assigned under the chain-head lock, and the
    # keyset every page and export walks.
    sequence = models.PositiveBigIntegerField(primary_key=True)
    occurred_at = models.DateTimeField(db_index=True)
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)  # as it was at the time
    action = models.CharField(max_length=40, choices=Action.choices)
    target_kind = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=255, blank=True)
    conversation_id = models.CharField(max_length=64, blank=True)
    participant_id = models.CharField(max_length=64, blank=True)
    queue_id = models.CharField(max_length=64, blank=True)
    code_before_id = models.CharField(max_length=64, blank=True)
    code_before_name = models.CharField(max_length=255, blank=True)
    code_after_id = models.CharField(max_length=64, blank=True)
    code_after_name = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=32, blank=True)
    reason = models.TextField(blank=True)
    # Plain text, not an inet column: the hashed value must read back byte for byte.
    source_ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    correlation_id = models.CharField(max_length=64, blank=True)
    extra = CanonicalJSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        db_table = "audit_auditevent"
        ordering = ["-sequence"]
        default_permissions = ("view",)
        # Each filter gets an index ending in the sequence, so "filter, newest first, after
        # cursor" is one index range scan with no sort, however many rows match.
        indexes = [
            models.Index(fields=["action", "sequence"], name="audit_action_seq"),
            models.Index(fields=["actor_username", "sequence"], name="audit_actor_seq"),
            models.Index(fields=["actor_id", "sequence"], name="audit_actorid_seq"),
            models.Index(fields=["conversation_id", "sequence"], name="audit_conv_seq"),
            models.Index(fields=["queue_id", "sequence"], name="audit_queue_seq"),
            models.Index(fields=["code_after_id", "sequence"], name="audit_codeafter_seq"),
            models.Index(fields=["code_before_id", "sequence"], name="audit_codebefore_seq"),
            # The code filter also matches by name: without these, a name that is rare or
            # absent scanned the whole table (seconds at a million events).
            models.Index(fields=["code_after_name", "sequence"], name="audit_codeaftername_seq"),
            models.Index(fields=["code_before_name", "sequence"], name="audit_codebeforename_seq"),
            models.Index(fields=["outcome", "sequence"], name="audit_outcome_seq"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} by {self.actor_username or self.actor_kind}"

    @property
    def extra_rows(self) -> list[tuple[str, str]]:
        """`extra` as (key, text) rows for the event page: text as it is, anything else as JSON."""
        return [(key, value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False))
                for key, value in sorted((self.extra or {}).items())]


class AuditChainHead(models.Model):
    """The single row (pk=1) naming the newest event; locked by every writer."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)
    occurred_at = models.DateTimeField(null=True)

    class Meta:
        default_permissions = ()


class AuditCheckpoint(models.Model):
    """A verified head, signed with the secret key. Append-only like the events."""

    sequence = models.PositiveBigIntegerField(db_index=True)
    hash = models.CharField(max_length=64)
    verified_at = models.DateTimeField()
    events_checked = models.PositiveBigIntegerField()
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["-sequence", "-id"]
        default_permissions = ("view",)


class AuditExport(models.Model):
    """An export's manifest, filled in when its stream completes (the separate download)."""

    event_sequence = models.PositiveBigIntegerField(unique=True)  # the export_downloaded event
    format = models.CharField(max_length=8)
    # The export covers the chain up to the event just before its own.
    head_sequence = models.PositiveBigIntegerField()
    head_hash = models.CharField(max_length=64)
    manifest = models.JSONField(null=True)
    completed_at = models.DateTimeField(null=True)

    class Meta:
        default_permissions = ()
