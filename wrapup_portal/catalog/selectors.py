"""Reads for the catalog pages."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from wrapup_portal.catalog.models import CodeGroup, SyncChange, SyncRun, WrapupCode


def code_group_list(*, search: str = "", include_removed: bool = False) -> QuerySet[CodeGroup]:
    groups = CodeGroup.objects.annotate(code_count=Count("memberships")).order_by("name")
    if search:
        groups = groups.filter(Q(name__icontains=search) | Q(queue_id=search))
    if not include_removed:
        groups = groups.filter(removed_at__isnull=True)
    return groups


def code_group_codes(*, group: CodeGroup) -> QuerySet[WrapupCode]:
    return WrapupCode.objects.filter(memberships__group=group).order_by("name")


def sync_run_list() -> QuerySet[SyncRun]:
    return SyncRun.objects.select_related("started_by").order_by("-id")


def sync_run_latest() -> SyncRun | None:
    return sync_run_list().first()


def sync_run_last_success() -> SyncRun | None:
    return SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).order_by("-id").first()


def sync_run_first() -> SyncRun | None:
    """The run that copied the catalog when it was empty (it lists no changes)."""
    return SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED, first_sync=True).order_by("-id").first()


def sync_run_active() -> SyncRun | None:
    return SyncRun.objects.filter(status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]).order_by("id").first()


def code_group_last_synced(*, group: CodeGroup) -> SyncRun | None:
    """The latest successful run that read this group's codes (all queues, or this one named)."""
    for run in SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).order_by("-id")[:50]:
        if not run.queue_ids or group.queue_id in run.queue_ids:
            return run
    return None


def sync_change_list(*, run: SyncRun | None = None, kind: str = "") -> QuerySet[SyncChange]:
    changes = SyncChange.objects.select_related("code", "group", "run").order_by("-run_id", "id")
    if run is not None:
        changes = changes.filter(run=run)
    if kind:
        changes = changes.filter(kind=kind)
    return changes


def drift_run() -> SyncRun | None:
    """The latest successful run that found anything: what changed in Genesys lately."""
    return SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED, changes__isnull=False).order_by("-id").first()
