"""Apply a Genesys snapshot to the portal's catalog: compute the differences, write only those.

Called inside the sync run's transaction (catalog.services.sync_run_execute).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from wrapup_portal.catalog.models import CodeGroup, Membership, SyncChange, SyncRun, WrapupCode
from wrapup_portal.catalog.snapshot import CatalogSnapshot, CodeInfo

BATCH = 1000
Kind = SyncChange.Kind
CODE_FIELDS = ("name", "description", "division_id", "division_name")
GROUP_FIELDS = ("name", "division_id", "division_name", "wrapup_prompt", "acw_timeout_ms")


# The run's three counts cover every change it lists, so a page's header adds up to its rows.
ADDED_KINDS = {Kind.CODE_ADDED, Kind.QUEUE_ADDED}
RETIRED_KINDS = {Kind.CODE_RETIRED, Kind.QUEUE_REMOVED}


@dataclass
class ApplyResult:
    added: int = 0
    changed: int = 0
    retired: int = 0
    rows_written: int = 0
    changes: list[SyncChange] = field(default_factory=list)
    first_sync: bool = False
    queues_copied: int = 0
    codes_copied: int = 0

    def count_changes(self) -> None:
        kinds = [change.kind for change in self.changes]
        self.added = sum(kind in ADDED_KINDS for kind in kinds)
        self.retired = sum(kind in RETIRED_KINDS for kind in kinds)
        self.changed = len(kinds) - self.added - self.retired


def _fields(obj: object, names: tuple[str, ...]) -> dict[str, object]:
    return {name: getattr(obj, name) for name in names}


def _apply_codes(run: SyncRun, snapshot: CatalogSnapshot, now: datetime, result: ApplyResult) -> dict[str, WrapupCode]:
    existing = {code.code_id: code for code in WrapupCode.objects.all()}
    # Codes a queue offers but the org-wide list does not show (another division): keep them known.
    wanted: dict[str, CodeInfo] = dict(snapshot.codes)
    for members in snapshot.members.values():
        for code_id, name in members.items():
            wanted.setdefault(code_id, CodeInfo(code_id=code_id, name=name))

    created, updated = [], []
    for code_id, info in wanted.items():
        row = existing.get(code_id)
        after = _fields(info, CODE_FIELDS)
        if row is None:
            row = WrapupCode(code_id=code_id, first_seen_at=now, changed_at=now, **after)
            created.append(row)
            result.changes.append(SyncChange(run=run, kind=Kind.CODE_ADDED, code=row, after=after))
            continue
        before = _fields(row, CODE_FIELDS)
        restored = row.retired_at is not None
        if before == after and not restored:
            continue
        kind = Kind.CODE_RESTORED if restored else Kind.CODE_RENAMED if before["name"] != after["name"] else Kind.CODE_CHANGED
        for name, value in after.items():
            setattr(row, name, value)
        row.retired_at = None
        row.changed_at = now
        updated.append(row)
        result.changes.append(SyncChange(run=run, kind=kind, code=row, before=before, after=after))

    last_success = SyncRun.objects.filter(status=SyncRun.Status.SUCCEEDED).order_by("-finished_at").first()
    for code_id, row in existing.items():
        if code_id not in wanted and row.retired_at is None:
            row.retired_at = row.changed_at = now
            row.last_seen_at = last_success.started_at if last_success else row.first_seen_at
            updated.append(row)
            result.changes.append(SyncChange(run=run, kind=Kind.CODE_RETIRED, code=row, before={"name": row.name}))

    WrapupCode.objects.bulk_create(created, batch_size=BATCH)
    WrapupCode.objects.bulk_update(
        updated, [*CODE_FIELDS, "retired_at", "changed_at", "last_seen_at"], batch_size=BATCH
    )
    result.rows_written += len(created) + len(updated)
    existing.update({row.code_id: row for row in created})
    return existing


def _apply_groups(run: SyncRun, snapshot: CatalogSnapshot, now: datetime, result: ApplyResult) -> dict[str, CodeGroup]:
    existing = {group.queue_id: group for group in CodeGroup.objects.all()}
    created, updated = [], []
    for queue_id, info in snapshot.queues.items():
        row = existing.get(queue_id)
        after = _fields(info, GROUP_FIELDS)
        if row is None:
            row = CodeGroup(queue_id=queue_id, first_seen_at=now, changed_at=now, **after)
            created.append(row)
            result.changes.append(SyncChange(run=run, kind=Kind.QUEUE_ADDED, group=row, after=after))
            continue
        before = _fields(row, GROUP_FIELDS)
        if before == after and row.removed_at is None:
            continue
        kind = Kind.QUEUE_RENAMED if before["name"] != after["name"] else Kind.QUEUE_CHANGED
        for name, value in after.items():
            setattr(row, name, value)
        row.removed_at = None
        row.changed_at = now
        updated.append(row)
        result.changes.append(SyncChange(run=run, kind=kind, group=row, before=before, after=after))
    for queue_id, row in existing.items():
        if queue_id not in snapshot.queues and row.removed_at is None:
            # Gone from Genesys (or deleted while this run read it): keep it for history.
            row.removed_at = row.changed_at = now
            updated.append(row)
            result.changes.append(SyncChange(run=run, kind=Kind.QUEUE_REMOVED, group=row, before={"name": row.name}))
    CodeGroup.objects.bulk_create(created, batch_size=BATCH)
    CodeGroup.objects.bulk_update(updated, [*GROUP_FIELDS, "removed_at", "changed_at"], batch_size=BATCH)
    result.rows_written += len(created) + len(updated)
    existing.update({row.queue_id: row for row in created})
    return existing


def _apply_memberships(
    run: SyncRun,
    snapshot: CatalogSnapshot,
    groups: dict[str, CodeGroup],
    codes: dict[str, WrapupCode],
    new_group_ids: set[str],
    now: datetime,
    result: ApplyResult,
) -> None:
    read_groups = [groups[q] for q in snapshot.members if q in groups]
    current: dict[tuple[int, int], Membership] = {
        (m.group_id, m.code_id): m for m in Membership.objects.filter(group__in=read_groups)
    }
    wanted = {(groups[q].pk, codes[c].pk): (q, c) for q, members in snapshot.members.items() if q in groups for c in members}
    to_add = [Membership(group_id=g, code_id=c, added_at=now) for (g, c) in wanted.keys() - current.keys()]
    to_remove = [current[key].pk for key in current.keys() - wanted.keys()]
    for key in wanted.keys() - current.keys():
        queue_id, code_id = wanted[key]
        # A queue seen for the first time is one "queue added" change, not one per code.
        if queue_id not in new_group_ids:
            result.changes.append(SyncChange(run=run, kind=Kind.CODE_JOINED_QUEUE, group=groups[queue_id],
                                             code=codes[code_id], after={"code": codes[code_id].name}))
    by_pk = {group.pk: group for group in read_groups}
    code_by_pk = {code.pk: code for code in codes.values()}
    for key in current.keys() - wanted.keys():
        group, code = by_pk[key[0]], code_by_pk[key[1]]
        result.changes.append(SyncChange(run=run, kind=Kind.CODE_LEFT_QUEUE, group=group, code=code,
                                         before={"code": code.name}))
    Membership.objects.bulk_create(to_add, batch_size=BATCH)
    for start in range(0, len(to_remove), BATCH):
        Membership.objects.filter(pk__in=to_remove[start : start + BATCH]).delete()
    result.rows_written += len(to_add) + len(to_remove)


def snapshot_apply(*, run: SyncRun, snapshot: CatalogSnapshot) -> ApplyResult:
    """Write the differences between the snapshot and the catalog; nothing when there are none.

    The first sync (an empty catalog) copies Genesys: every queue and code would be "added",
    which is no drift and buries the first real change under a list nobody reads, so it
    records how much it copied instead of one change per row.
    """
    now = timezone.now()
    result = ApplyResult(first_sync=not (CodeGroup.objects.exists() or WrapupCode.objects.exists()))
    known_groups = set(CodeGroup.objects.values_list("queue_id", flat=True))
    codes = _apply_codes(run, snapshot, now, result)
    groups = _apply_groups(run, snapshot, now, result)
    _apply_memberships(run, snapshot, groups, codes, set(snapshot.queues) - known_groups, now, result)
    if result.first_sync:
        result.queues_copied = sum(change.kind == Kind.QUEUE_ADDED for change in result.changes)
        result.codes_copied = sum(change.kind == Kind.CODE_ADDED for change in result.changes)
        result.changes = []
    result.count_changes()
    # Changes point at rows created above; their primary keys are set by now.
    for change in result.changes:
        change.code_id = change.code.pk if change.code else None
        change.group_id = change.group.pk if change.group else None
    SyncChange.objects.bulk_create(result.changes, batch_size=BATCH)
    return result
