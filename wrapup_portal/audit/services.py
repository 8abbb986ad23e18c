"""Writes of the audit log. Every app records its events through `audit_record`.

    from wrapup_portal.audit.models import Action
    from wrapup_portal.audit.services import Actor, audit_record

    audit_record(action=Action.ASSIGNMENT_APPLIED, actor=Actor.for_user(user), request=request,
                 conversation_id=cid, participant_id=pid, code_before_id=..., code_after_id=...)
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from wrapup_portal.audit.chain import GENESIS_HASH, HASHED_FIELDS, checkpoint_payload, event_hash, sign
from wrapup_portal.audit.models import Action, ActorKind, AuditChainHead, AuditCheckpoint, AuditEvent, AuditExport
from wrapup_portal.audit.exports import export_file_check, export_stream
from wrapup_portal.audit.selectors import AuditFilter, audit_last_archived, audit_verification_result
from wrapup_portal.audit.verification import VerifyResult, audit_chain_verify

USER_AGENT_MAX = 512
# The hourly verification, registered by migration 0003_checkpoint_schedule.
CHECKPOINT_SCHEDULE = "audit.chain_checkpoint"
# How long events stay in the live table before they are due for an archive export:
# settings.AUDIT_RETENTION_DAYS, seven years by default (a common retention for call records).
DEFAULT_RETENTION_DAYS = 7 * 365


class ArchiveNotVerified(Exception):
    """The archive file just written does not check out against its manifest and the database."""


@dataclass(frozen=True)
class Actor:
    """Who did it: a person (username as it was), a rule, a system job or the CLI."""

    kind: str
    id: str = ""
    username: str = ""

    @classmethod
    def for_user(cls, user: AbstractBaseUser | AnonymousUser | None, *, username: str = "") -> Actor:
        if user is None or not user.is_authenticated:
            return cls(ActorKind.USER, "", username)
        return cls(ActorKind.USER, str(user.pk), user.get_username())

    @classmethod
    def rule(cls, rule_id: object, name: str) -> Actor:
        return cls(ActorKind.RULE, str(rule_id), name)

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(ActorKind.SYSTEM, "", job)

    @classmethod
    def cli(cls, os_user: str) -> Actor:
        return cls(ActorKind.CLI, "", os_user)


def _client_ip(request: HttpRequest) -> str:
    # REMOTE_ADDR only: a forwarded header is whatever the client says it is. Behind a
    # proxy, the proxy must set REMOTE_ADDR (e.g. the WSGI server's trusted-proxy option).
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).compressed
    except ValueError:
        return ""


def _locked_head() -> AuditChainHead:
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        # The migration creates the row; a flushed test database may have lost it.
        AuditChainHead.objects.bulk_create([AuditChainHead(pk=1)], ignore_conflicts=True)
        head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head


def audit_record(
    *,
    action: str,
    actor: Actor,
    request: HttpRequest | None = None,
    target_kind: str = "",
    target_id: str = "",
    conversation_id: str = "",
    participant_id: str = "",
    queue_id: str = "",
    code_before_id: str = "",
    code_before_name: str = "",
    code_after_id: str = "",
    code_after_name: str = "",
    outcome: str = "",
    reason: str = "",
    correlation_id: str = "",
    extra: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    Takes the chain-head lock (SELECT ... FOR UPDATE on PostgreSQL; on SQLite the
    IMMEDIATE transaction already holds the database write lock), so concurrent writers
    line up and the chain never forks. If the caller's transaction rolls back, the event
    and the head move roll back with it: no gap. Source IP, user agent and request id come
    from `request` when given.
    """
    if action not in Action.values:
        raise ValueError(f"unknown audit action {action!r}")
    with transaction.atomic():
        head = _locked_head()
        now = timezone.now()
        # Never earlier than the previous event, so time order is chain order (clock steps
        # back are absorbed) and a time range is a sequence range for the selectors.
        occurred_at = max(now, head.occurred_at) if head.occurred_at else now
        values = {
            "sequence": head.sequence + 1,
            "occurred_at": occurred_at,
            "actor_kind": actor.kind,
            "actor_id": actor.id,
            "actor_username": actor.username[:150],
            "action": str(action),
            "target_kind": target_kind,
            "target_id": str(target_id)[:255],
            "conversation_id": conversation_id,
            "participant_id": participant_id,
            "queue_id": queue_id,
            "code_before_id": code_before_id,
            "code_before_name": code_before_name,
            "code_after_id": code_after_id,
            "code_after_name": code_after_name,
            "outcome": outcome,
            "reason": reason,
            "source_ip": _client_ip(request) if request is not None else "",
            "user_agent": request.headers.get("User-Agent", "")[:USER_AGENT_MAX] if request is not None else "",
            "request_id": getattr(request, "request_id", "") if request is not None else "",
            "correlation_id": correlation_id,
            "extra": extra or {},
            "prev_hash": head.hash or GENESIS_HASH,
        }
        for name in HASHED_FIELDS:  # the text columns hash as the text they store
            if name not in ("sequence", "occurred_at", "extra"):
                values[name] = str(values[name] or "")
        values["hash"] = event_hash([values[name] for name in HASHED_FIELDS])
        event = AuditEvent.objects.create(**values)
        AuditChainHead.objects.filter(pk=1).update(sequence=event.sequence, hash=event.hash, occurred_at=occurred_at)
    return event


def audit_checkpoint_record(*, actor: Actor | None = None, request_sequence: int | None = None) -> VerifyResult:
    """Verify the whole chain; if intact, store a signed checkpoint of the verified head.

    Verification runs without the lock (writers go on); the checkpoint names the head it
    verified. Either way one event says what happened: checkpoint or chain broken; with
    `request_sequence` it names the *Verify now* request it answers.
    """
    actor = actor or Actor.system("audit.chain_checkpoint")
    requested = {"request": request_sequence} if request_sequence else {}
    result = audit_chain_verify()
    if not result.ok:
        audit_record(
            action=Action.CHAIN_BROKEN, actor=actor, outcome="broken", reason=result.message,
            target_kind="event", target_id=str(result.first_bad or ""), extra=requested,
        )
        return result
    with transaction.atomic():
        verified_at = timezone.now()
        payload = checkpoint_payload(
            sequence=result.head_sequence, hash=result.head_hash, verified_at=verified_at, events_checked=result.checked
        )
        checkpoint = AuditCheckpoint.objects.create(
            sequence=result.head_sequence, hash=result.head_hash, verified_at=verified_at,
            events_checked=result.checked, signature=sign(payload),
        )
        audit_record(
            action=Action.CHAIN_CHECKPOINT, actor=actor, outcome="verified", target_kind="checkpoint",
            target_id=str(checkpoint.pk), extra={"sequence": result.head_sequence, "hash": result.head_hash, **requested},
        )
    return result


def audit_verification_request(*, by: AbstractBaseUser, request: HttpRequest | None = None) -> AuditEvent:
    """*Verify now*: record who asked, and queue a verification once this transaction commits.

    The answer is the first checkpoint or chain-broken event after the request
    (selectors.audit_verification_result), whichever run of the verification records it.
    """
    with transaction.atomic():
        event = audit_record(action=Action.CHAIN_VERIFY_REQUESTED, actor=Actor.for_user(by), request=request,
                             target_kind="chain", outcome="queued")
        transaction.on_commit(lambda: async_task(
            "wrapup_portal.audit.tasks.audit_chain_verify_requested", event.sequence,
            task_name=f"audit verify now #{event.sequence}", group="audit",
        ))
    return event


def audit_verification_answer(*, request_sequence: int) -> AuditEvent:
    """Verify the chain for a *Verify now* request, unless a verification since has answered it."""
    if (answer := audit_verification_result(request_sequence=request_sequence)) is None:
        audit_checkpoint_record(actor=Actor.system("audit.verify_now"), request_sequence=request_sequence)
        answer = audit_verification_result(request_sequence=request_sequence)
    return answer


def audit_checkpoint_soon() -> int:
    """Bring the hourly verification forward to now; the cluster's scheduler runs it within a minute.

    Called when a cluster worker starts (AuditConfig.ready), so a freshly started cluster does
    not show "last verified" from before its downtime for up to an hour. Idempotent: every
    worker of the cluster may call it, the scheduler runs the schedule once.
    """
    now = timezone.now()
    return Schedule.objects.filter(name=CHECKPOINT_SCHEDULE, next_run__gt=now).update(next_run=now)


def audit_export_start(*, request: HttpRequest, fmt: str, filters: dict[str, str]) -> AuditExport:
    """Audit the export before a byte is sent, and open its manifest record.

    The export covers the chain up to the event just before this one: under the chain
    lock that head is exactly the new event's predecessor, so no writer can slip between.
    """
    with transaction.atomic():
        event = audit_record(
            action=Action.EXPORT_DOWNLOADED, actor=Actor.for_user(request.user), request=request,
            target_kind="export", target_id=fmt, extra={"format": fmt, "filter": filters},
        )
        return AuditExport.objects.create(
            event_sequence=event.sequence, format=fmt, head_sequence=event.sequence - 1, head_hash=event.prev_hash
        )


def audit_export_complete(*, export: AuditExport, manifest: dict[str, Any], at: datetime | None = None) -> AuditExport:
    """Keep the finished export's manifest for the separate manifest download."""
    AuditExport.objects.filter(pk=export.pk).update(manifest=manifest, completed_at=at or timezone.now())
    return export


@dataclass(frozen=True)
class Archive:
    path: Path | None
    manifest: dict[str, Any]
    event: AuditEvent | None


def audit_archive_write(*, directory: Path, actor: Actor, retention_days: int | None = None) -> Archive:
    """Write the events older than the retention period, not archived before, to a JSON Lines
    archive with its manifest; verify the written file; record one event. Deletes nothing.
    """
    days = retention_days if retention_days is not None else getattr(settings, "AUDIT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS)
    cutoff = timezone.now() - timedelta(days=days)
    start = audit_last_archived()
    upto = AuditEvent.objects.filter(occurred_at__lt=cutoff).order_by("-sequence").values_list("sequence", flat=True).first() or 0
    if upto <= start:
        return Archive(None, {}, None)
    head = AuditEvent.objects.get(sequence=upto)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"audit-archive-{start + 1:012d}-{upto:012d}.jsonl"
    manifests: list[dict[str, Any]] = []
    with path.open("wb") as handle:
        for chunk in export_stream(
            fmt="jsonl", filters=AuditFilter(), head_sequence=upto, head_hash=head.hash, export_event=0,
            generated_by=actor.username, start=start, on_complete=manifests.append,
        ):
            handle.write(chunk)
    check = export_file_check(path, against_db=True)
    if not check.ok:
        raise ArchiveNotVerified(f"{path}: {check.problems[0]}")
    event = audit_record(
        action=Action.ARCHIVE_WRITTEN, actor=actor, outcome="verified", target_kind="archive", target_id=path.name,
        extra={"first_sequence": start + 1, "last_sequence": upto, "sha256": manifests[0]["sha256"], "retention_days": days},
    )
    return Archive(path, manifests[0], event)
