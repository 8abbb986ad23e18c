"""Assignments: one request to put code C on agent leg P of conversation X, and its life cycle.

```
requested ──► waiting_for_acw ──► sending ──► applied
     │              └──► expired (ACW over before we could write; Genesys kept its code)
     └──► failed (permanent, with its reason)          any live state ──► cancelled
```
A leg has at most one live assignment (a conditional unique constraint on every database);
a new request for it supersedes the live one explicitly. Rows are never deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class State(models.TextChoices):
    REQUESTED = "requested", "Requested"
    WAITING_FOR_ACW = "waiting_for_acw", "Waiting for after-call work"
    SENDING = "sending", "Sending"
    APPLIED = "applied", "Applied"
    EXPIRED = "expired", "Expired"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


LIVE_STATES = (State.REQUESTED, State.WAITING_FOR_ACW, State.SENDING)
FINAL_STATES = (State.APPLIED, State.EXPIRED, State.FAILED, State.CANCELLED)


class Source(models.TextChoices):
    PERSON = "person", "Person"
    BULK = "bulk", "Bulk job"
    CSV = "csv", "CSV upload"
    CLI = "cli", "Command line"
    RULE = "rule", "Rule"


class LegState(models.TextChoices):
    """What a read of the leg saw: the state a decision is taken from."""

    CONNECTED = "connected", "Still connected"
    ACW = "acw", "In after-call work"
    FINAL = "final", "After-call work over"


class BulkJob(models.Model):
    """Many legs, one code, one confirmation: a bulk selection or a CSV upload."""

    source = models.CharField(max_length=16, choices=Source.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_by_name = models.CharField(max_length=150, blank=True)
    reason = models.TextField(blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_source_display()} #{self.pk}"


class Assignment(models.Model):
    conversation_id = models.CharField(max_length=64)
    participant_id = models.CharField(max_length=64)
    queue_id = models.CharField(max_length=64, blank=True)
    code_id = models.CharField(max_length=64)
    code_name = models.CharField(max_length=255)  # as it was when requested
    notes = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    requested_by_name = models.CharField(max_length=150, blank=True)  # username, OS user of the CLI, or rule name
    job = models.ForeignKey(BulkJob, null=True, blank=True, on_delete=models.PROTECT, related_name="assignments")

    state = models.CharField(max_length=20, choices=State.choices, default=State.REQUESTED)
    # What the validating read saw: the first attempt decides from it without reading again.
    seen_state = models.CharField(max_length=16, choices=LegState.choices, blank=True)
    seen_code = models.CharField(max_length=100, blank=True)
    seen_at = models.DateTimeField(null=True, blank=True)
    code_before = models.CharField(max_length=100, blank=True)  # the leg's code when requested
    final_code = models.CharField(max_length=100, blank=True)  # what Genesys kept (expired)

    attempts = models.PositiveIntegerField(default=0)  # writes sent
    checks = models.PositiveIntegerField(default=0)  # reads while waiting or reading back
    next_attempt_at = models.DateTimeField(db_index=True)
    # A "sending" row whose worker died: read back once this has passed, never re-sent blindly.
    lease_until = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_code = models.CharField(max_length=100, blank=True)
    last_message = models.TextField(blank=True)
    last_correlation_id = models.CharField(max_length=64, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The rule that asked for it (source=rule); kept as requested_by_name once the rule is deleted.
    rule = models.ForeignKey("Rule", null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments")

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="assign_due"),
            models.Index(fields=["conversation_id", "participant_id"], name="assign_leg"),
            models.Index(fields=["job", "state"], name="assign_job_state"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation_id", "participant_id"],
                condition=Q(state__in=["requested", "waiting_for_acw", "sending"]),
                name="assign_one_live_per_leg",
            ),
        ]

    def __str__(self) -> str:
        return f"Assignment #{self.pk} ({self.state})"

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"


class Rule(models.Model):
    """Auto-assign rule: legs of `queue` matching the conditions get `code` as their ACW starts.

    Enabled rules are tried by ascending `priority`; the first that matches wins. Empty
    conditions match anything. ANI/DNIS patterns are fnmatch-style globs (`*`, `?`, `[0-9]`),
    matched against the address with any `tel:`/`sip:` prefix removed.
    """

    name = models.CharField(max_length=100, unique=True)
    enabled = models.BooleanField(default=True)
    priority = models.PositiveIntegerField(default=0, db_index=True)
    queue = models.ForeignKey("catalog.CodeGroup", on_delete=models.PROTECT, related_name="rules")
    code = models.ForeignKey("catalog.WrapupCode", on_delete=models.PROTECT, related_name="rules")
    notes_template = models.TextField(blank=True)
    # A real code the agent chose is kept unless both say otherwise (see rules.rule_matches).
    override_agent_code = models.BooleanField(default=False)
    only_without_code = models.BooleanField(default=True)

    # Conditions: an empty value means "any".
    media_types = models.JSONField(default=list, blank=True)
    direction = models.CharField(max_length=16, choices=Direction.choices, blank=True)
    ani_pattern = models.CharField(max_length=100, blank=True)
    dnis_pattern = models.CharField(max_length=100, blank=True)
    user_ids = models.JSONField(default=list, blank=True)
    team_ids = models.JSONField(default=list, blank=True)
    talk_seconds_min = models.PositiveIntegerField(null=True, blank=True)
    talk_seconds_max = models.PositiveIntegerField(null=True, blank=True)
    disconnect_types = models.JSONField(default=list, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return self.name


class EventKind(models.TextChoices):
    USER_END = "user.end", "Agent leg ended (after-call work starts)"
    ACW = "acw", "After-call work over"


class EventOutcome(models.TextChoices):
    PROCESSING = "processing", "Being processed"
    ASSIGNED = "assigned", "A rule's assignment was made"
    ALREADY = "already", "The leg already has a rule's assignment"
    NO_RULE = "no_rule", "No rule matched"
    NOT_IN_ACW = "not_in_acw", "The leg was not in after-call work"
    NOT_AGENT = "not_agent", "Not an agent leg"
    GONE = "gone", "Genesys knows no such conversation or leg"
    REFUSED = "refused", "The rule's assignment was refused"
    ERROR = "error", "Genesys could not be read"
    SETTLED = "settled", "Waiting assignments settled"
    NOTHING = "nothing", "Nothing was waiting"


class ConversationEvent(models.Model):
    """A conversation event taken in by the hook (or made up by the poller for a leg it found).

    One row per leg and kind (``dedupe_key``): a redelivered event, the same event both bare
    and through EventBridge, and the poller finding a leg the event path already has all land
    on the same row, so a rule fires at most once per leg from here.
    """

    kind = models.CharField(max_length=16, choices=EventKind.choices)
    conversation_id = models.CharField(max_length=64)
    participant_id = models.CharField(max_length=64)
    user_id = models.CharField(max_length=64, blank=True)
    queue_id = models.CharField(max_length=64, blank=True)
    dedupe_key = models.CharField(max_length=64, unique=True)
    via = models.CharField(max_length=16, default="hook")  # hook | poll
    payload = models.JSONField(default=dict, blank=True)
    event_time = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=EventOutcome.choices, blank=True)
    detail = models.TextField(blank=True)
    tries = models.PositiveIntegerField(default=0)
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["conversation_id", "processed_at"], name="event_conv_pending"),
            models.Index(fields=["processed_at"], name="event_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.conversation_id}/{self.participant_id}"
