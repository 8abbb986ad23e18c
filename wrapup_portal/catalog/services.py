"""Writes for the catalog: sync runs (request, execute, apply) and admin settings.

A run is requested (a row in `queued`), then executed by a django-q2 task or the CLI:
it takes the run lock, reads Genesys into a snapshot with no transaction open, and applies
the differences in one transaction. Only rows that differ are written, so a sync that
finds nothing new writes no catalog rows at all.
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django_q.tasks import async_task

from integrations.genesys import (
    BadClientCredentialsError,
    ForbiddenError,
    GenesysAuthError,
    GenesysClient,
    GenesysConfigurationError,
    GenesysError,
)
from wrapup_portal.audit.models import Action
from wrapup_portal.audit.services import Actor, audit_record
from wrapup_portal.catalog.apply import snapshot_apply
from wrapup_portal.catalog.models import CodeGroup, SyncRun
from wrapup_portal.catalog.snapshot import snapshot_read
from wrapup_portal.core.genesys import build_genesys_client

logger = logging.getLogger(__name__)

# A running sync whose worker has not reported for this long is taken to be dead.
STALE_AFTER = timedelta(minutes=10)

SYNC_ALREADY_RUNNING = "A sync is already queued or running; showing it instead of starting another."
MISSING_PERMISSION = (
    "Genesys refused the request ({status} {code}): the OAuth client's role needs the permissions "
    "routing:queue:view and routing:wrapupCode:view."
)
BAD_CREDENTIALS = (
    "Genesys refused the OAuth client id or secret: check GENESYS_CLIENT_ID, GENESYS_CLIENT_SECRET "
    "and GENESYS_REGION."
)
UNKNOWN_QUEUES = "Unknown queue id(s): {ids}. Run a sync of all queues first or check the id."
STALE_RUNNING = "Abandoned: the worker stopped reporting progress (it was probably killed)."
STALE_QUEUED = "Abandoned: no background worker picked the run up (is the cluster running?)."


@dataclass(frozen=True)
class SyncRequest:
    run: SyncRun
    created: bool


def _active_run() -> SyncRun | None:
    return SyncRun.objects.filter(status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]).order_by("id").first()


def _fail_stale_runs() -> None:
    """Free the lock of runs nobody is working on.

    A worker that died mid-run leaves its run `running`; a run whose task was never picked up
    stays `queued`. Either would block every later sync, so after STALE_AFTER they are failed.
    """
    cutoff = timezone.now() - STALE_AFTER
    stale = Q(status=SyncRun.Status.RUNNING, heartbeat_at__lt=cutoff) | Q(status=SyncRun.Status.QUEUED, created_at__lt=cutoff)
    for run in SyncRun.objects.filter(stale):
        reason = STALE_RUNNING if run.status == SyncRun.Status.RUNNING else STALE_QUEUED
        with transaction.atomic():
            updated = SyncRun.objects.filter(stale, pk=run.pk).update(
                status=SyncRun.Status.FAILED, lock=None, finished_at=timezone.now(), error=reason
            )
            if updated:
                audit_record(action=Action.SYNC_FAILED, actor=Actor.system("catalog sync"), target_kind="sync_run",
                             target_id=str(run.pk), outcome="failed", reason=reason)


def _requester(trigger: str, by: AbstractBaseUser | None) -> Actor:
    if by is not None:
        return Actor.for_user(by)
    if trigger == SyncRun.Trigger.CLI:
        return Actor.cli(getpass.getuser())
    return Actor.system(f"catalog sync ({trigger})")


def sync_run_request(
    *,
    trigger: str,
    by: AbstractBaseUser | None = None,
    queue_ids: list[str] | None = None,
    request: HttpRequest | None = None,
    enqueue: bool = False,
) -> SyncRequest:
    """Queue a sync run, or return the one already queued or running (never two at once).

    With `enqueue`, a django-q2 task executes it once this transaction has committed.
    """
    _fail_stale_runs()
    existing = _active_run()
    if existing is not None:
        return SyncRequest(existing, created=False)
    with transaction.atomic():
        try:
            with transaction.atomic():  # a savepoint: a lost race leaves the outer transaction usable
                # A queued run already holds the lock, so a request racing this one fails here.
                run = SyncRun.objects.create(
                    trigger=trigger, started_by=by, queue_ids=sorted(set(queue_ids or [])), lock=True
                )
        except IntegrityError:
            return SyncRequest(SyncRun.objects.get(lock=True), created=False)
        audit_record(
            action=Action.SYNC_STARTED, actor=_requester(trigger, by), request=request,
            target_kind="sync_run", target_id=str(run.pk), extra={"trigger": trigger, "queue_ids": run.queue_ids},
        )
        if enqueue:
            transaction.on_commit(
                lambda: async_task("wrapup_portal.catalog.tasks.sync_run_execute_task", run.pk,
                                   task_name=f"catalog sync #{run.pk}", group="catalog")
            )
    return SyncRequest(run, created=True)


def _claim(run_id: int) -> SyncRun | None:
    """Start a queued run (it holds the lock since it was requested). None when it is not queued
    any more: a repeated task, or a run that was failed as abandoned."""
    now = timezone.now()
    claimed = SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.QUEUED).update(
        status=SyncRun.Status.RUNNING, started_at=now, heartbeat_at=now
    )
    return SyncRun.objects.get(pk=run_id) if claimed else None


def _progress(run: SyncRun, phase: str, done: int, total: int) -> None:
    SyncRun.objects.filter(pk=run.pk).update(
        phase=phase, progress_done=done, progress_total=total, heartbeat_at=timezone.now()
    )


def _queues_to_read(run: SyncRun, all_queue_ids: Iterable[str]) -> list[str]:
    all_queue_ids = set(all_queue_ids)
    if run.queue_ids:
        unknown = sorted(set(run.queue_ids) - all_queue_ids)
        if unknown:
            raise ValueError(UNKNOWN_QUEUES.format(ids=", ".join(unknown)))
        return list(run.queue_ids)
    selected = set(CodeGroup.objects.filter(synced=True, removed_at__isnull=True).values_list("queue_id", flat=True))
    # Until an admin has chosen queues, every queue is synced.
    return sorted(q for q in all_queue_ids if not selected or q in selected)


def _finish_failed(run: SyncRun, message: str, correlation_id: str = "") -> SyncRun:
    with transaction.atomic():
        SyncRun.objects.filter(pk=run.pk).update(
            status=SyncRun.Status.FAILED, lock=None, finished_at=timezone.now(), error=message
        )
        audit_record(action=Action.SYNC_FAILED, actor=Actor.system("catalog sync"), target_kind="sync_run",
                     target_id=str(run.pk), outcome="failed", reason=message[:500], correlation_id=correlation_id)
    run.refresh_from_db()
    return run


def _api_calls(client: GenesysClient) -> int:
    # API requests only: token requests depend on whether a cached token was still valid.
    return client.stats.requests - client.stats.token_requests


def sync_run_execute(*, run_id: int, client: GenesysClient | None = None) -> SyncRun:
    """Execute a queued run. Safe to call twice: a run that is not queued is left alone.

    Without ``client`` the run builds its own, so its API-call count is exactly its own calls
    (pacing and the token are still shared through the cache); Genesys not being configured
    then fails the run with the message naming what to set.
    """
    _fail_stale_runs()
    run = _claim(run_id)
    if run is None:
        return SyncRun.objects.get(pk=run_id)
    if client is None:
        try:
            client = build_genesys_client()
        except GenesysConfigurationError as exc:
            return _finish_failed(run, str(exc))
    calls_before = _api_calls(client)
    try:
        snapshot = snapshot_read(
            client=client,
            queue_ids=lambda ids: _queues_to_read(run, ids),
            on_progress=lambda phase, done, total: _progress(run, phase, done, total),
        )
    except BadClientCredentialsError as exc:
        return _finish_failed(run, f"{BAD_CREDENTIALS} ({exc})", exc.correlation_id or "")
    except (GenesysAuthError, ForbiddenError) as exc:
        message = MISSING_PERMISSION.format(status=exc.status, code=exc.code or "no code")
        return _finish_failed(run, f"{message} ({exc})", exc.correlation_id or "")
    except GenesysError as exc:
        return _finish_failed(run, f"Genesys request failed: {exc}", exc.correlation_id or "")
    except ValueError as exc:
        return _finish_failed(run, str(exc))
    api_calls = _api_calls(client) - calls_before
    _progress(run, "Saving changes", 0, 0)
    try:
        with transaction.atomic():
            result = snapshot_apply(run=run, snapshot=snapshot)
            SyncRun.objects.filter(pk=run.pk).update(
                status=SyncRun.Status.SUCCEEDED, lock=None, finished_at=timezone.now(), phase="Done",
                api_calls=api_calls, added=result.added, changed=result.changed, retired=result.retired,
                rows_written=result.rows_written, first_sync=result.first_sync,
                queues_copied=result.queues_copied, codes_copied=result.codes_copied,
            )
            copied = {"first_sync": True, "queues_copied": result.queues_copied,
                      "codes_copied": result.codes_copied} if result.first_sync else {}
            audit_record(
                action=Action.SYNC_FINISHED, actor=Actor.system("catalog sync"), target_kind="sync_run",
                target_id=str(run.pk), outcome="succeeded",
                extra={"added": result.added, "changed": result.changed, "retired": result.retired,
                       "api_calls": api_calls, "queues_read": len(snapshot.members), **copied},
            )
    except Exception as exc:  # the transaction rolled back: the previous catalog is intact
        logger.exception("catalog sync #%s failed while saving", run.pk)
        return _finish_failed(run, f"Saving the catalog failed, nothing was changed: {type(exc).__name__}: {exc}")
    run.refresh_from_db()
    return run


def code_group_set_synced(
    *, by: AbstractBaseUser, queue_ids: set[str], synced: bool, request: HttpRequest | None = None
) -> int:
    """Choose or un-choose queues for syncing; one audit event per queue actually changed."""
    with transaction.atomic():
        groups = list(CodeGroup.objects.select_for_update().filter(queue_id__in=queue_ids).filter(~Q(synced=synced)))
        for group in groups:
            group.synced = synced
            audit_record(
                action=Action.CATALOG_SETTINGS_CHANGED, actor=Actor.for_user(by), request=request,
                target_kind="code_group", target_id=group.queue_id, queue_id=group.queue_id,
                extra={"setting": "synced", "before": not synced, "after": synced, "queue_name": group.name},
            )
        CodeGroup.objects.bulk_update(groups, ["synced"])
    return len(groups)
