"""Reads of the audit log: filtered keyset pages, export rows, neighbours, chain status.

Pagination is keyset on `sequence` (the primary key): a page is "filters AND sequence
beyond the cursor, ordered, LIMIT n+1" — never OFFSET, never COUNT(*). Every equality
filter has an index ending in `sequence` (see models.py), so a page is one index range scan.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from django.db import connections
from django.db.models import Q, QuerySet

from wrapup_portal.audit.chain import ROW_FIELDS
from wrapup_portal.audit.models import Action, AuditChainHead, AuditCheckpoint, AuditEvent, AuditExport

PAGE_SIZE = 50
EXPORT_BATCH = 5000
# The code filter matches the code before or after, by id or by name. An OR over four
# columns defeats the per-column indexes, so each alternative runs as its own indexed query
# and the results are merged in sequence order.
CODE_COLUMNS = ("code_after_id", "code_after_name", "code_before_id", "code_before_name")


@dataclass(frozen=True)
class AuditFilter:
    since: datetime | None = None
    until: datetime | None = None
    actor: str = ""
    action: str = ""
    conversation_id: str = ""
    queue_id: str = ""
    code: str = ""
    outcome: str = ""

    def as_dict(self) -> dict[str, str]:
        """Non-empty criteria as text (for manifests and audit events)."""
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(self).items() if v}


@dataclass(frozen=True)
class EventPage:
    events: list[AuditEvent]
    older: int | None = None  # cursor for ?before=
    newer: int | None = None  # cursor for ?after=


@dataclass(frozen=True)
class ChainStatus:
    head_sequence: int
    head_hash: str
    head_at: datetime | None
    checkpoint: AuditCheckpoint | None = None
    behind: int = field(default=0)  # events written since the last checkpoint


def _time_bounds(filters: AuditFilter) -> Q:
    # The service keeps occurred_at non-decreasing along the chain, so a time range is a
    # sequence range: two index look-ups, then every other filter stays on its own index.
    q = Q()
    if filters.since:
        first = AuditEvent.objects.filter(occurred_at__gte=filters.since).order_by("occurred_at").values_list("sequence", flat=True).first()
        q &= Q(sequence__gte=first) if first is not None else Q(pk__in=[])
    if filters.until:
        last = AuditEvent.objects.filter(occurred_at__lt=filters.until).order_by("-occurred_at").values_list("sequence", flat=True).first()
        q &= Q(sequence__lte=last) if last is not None else Q(pk__in=[])
    return q


def _variants(filters: AuditFilter) -> list[QuerySet[AuditEvent]]:
    base = AuditEvent.objects.filter(_time_bounds(filters))
    exact = {
        "actor_username": filters.actor,
        "action": filters.action,
        "conversation_id": filters.conversation_id,
        "queue_id": filters.queue_id,
        "outcome": filters.outcome,
    }
    base = base.filter(**{name: value for name, value in exact.items() if value})
    if not filters.code:
        return [base]
    return [base.filter(**{column: filters.code}) for column in CODE_COLUMNS]


def _fetch(
    filters: AuditFilter, *, limit: int, before: int | None = None, after: int | None = None, descending: bool, fields: tuple[str, ...] | None = None
) -> list[Any]:
    """Up to `limit` events (or value tuples) strictly between the cursors, in sequence order."""
    order = "-sequence" if descending else "sequence"
    results = []
    for qs in _variants(filters):
        if before is not None:
            qs = qs.filter(sequence__lt=before)
        if after is not None:
            qs = qs.filter(sequence__gt=after)
        qs = qs.order_by(order)
        results.append(raw_rows(qs.values_list(*fields)[:limit]) if fields else list(qs[:limit]))
    if len(results) == 1:
        return results[0]

    def key(item: Any) -> int:
        seq = item[0] if fields else item.sequence
        return -seq if descending else seq

    merged, seen = [], set()
    for item in heapq.merge(*results, key=key):
        if (k := key(item)) not in seen:
            seen.add(k)
            merged.append(item)
    return merged[:limit]


# PostgreSQL writes occurred_at as chain.TIME_FORMAT text itself (what format_time gives).
_PG_CANONICAL_TIME = """to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def raw_rows(qs: QuerySet[Any]) -> list[tuple[Any, ...]]:
    """The rows as the driver returns them, without Django's per-value converters.

    Exports and verification read every row; converting each time to a datetime and back
    to text doubled their cost. chain.canonical_time/canonical_extra take the raw values.
    On PostgreSQL a selected `occurred_at` comes back as canonical text ('…T…Z', which
    canonical_time passes through): Django's timestamptz loader is Python code, and with
    it reading a row cost twice as much (export and verify_audit of a million rows).
    """
    sql, params = qs.query.sql_with_params()
    connection = connections[qs.db]
    if connection.vendor == "postgresql":
        sql = _select_time_as_text(sql, connection.ops.quote_name)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _select_time_as_text(sql: str, quote_name: Any) -> str:
    column = f"{quote_name(AuditEvent._meta.db_table)}.{quote_name('occurred_at')}"
    at, select_end = sql.find(column), sql.find(" FROM ")
    if not sql.startswith("SELECT ") or not 0 < at < select_end:
        return sql  # occurred_at not selected: nothing to do
    return sql[:at] + _PG_CANONICAL_TIME.format(column=column) + sql[at + len(column):]


def audit_event_page(*, filters: AuditFilter, before: int | None = None, after: int | None = None, size: int = PAGE_SIZE) -> EventPage:
    """One page, newest first. `before`/`after` are the cursors of the older/newer links."""
    if after is not None:
        events = _fetch(filters, limit=size + 1, after=after, descending=False)
        more_newer = len(events) > size
        events = list(reversed(events[:size]))
        older = events[-1].sequence if events else None
        return EventPage(events, older=older, newer=events[0].sequence if events and more_newer else None)
    events = _fetch(filters, limit=size + 1, before=before, descending=True)
    more_older = len(events) > size
    events = events[:size]
    newer = None
    if before is not None and events and _fetch(filters, limit=1, after=events[0].sequence, descending=False):
        newer = events[0].sequence
    return EventPage(events, older=events[-1].sequence if more_older else None, newer=newer)


def audit_event_rows(*, filters: AuditFilter, upto: int, start: int = 0, batch: int = EXPORT_BATCH) -> Iterator[tuple[Any, ...]]:
    """Every matching event after `start` up to `upto`, oldest first, as ROW_FIELDS tuples, in batches."""
    cursor = start
    while True:
        rows = _fetch(filters, limit=batch, after=cursor, before=upto + 1, descending=False, fields=ROW_FIELDS)
        yield from rows
        if len(rows) < batch:
            return
        cursor = rows[-1][0]


def audit_event_count(*, filters: AuditFilter, upto: int, start: int = 0) -> int:
    """How many events match in (start, upto] (for verify_export --against-db; never for pages)."""
    return sum(1 for _ in audit_event_rows(filters=filters, upto=upto, start=start))


def audit_last_archived() -> int:
    """The last sequence already written to an archive (0 when none)."""
    event = AuditEvent.objects.filter(action=Action.ARCHIVE_WRITTEN).order_by("-sequence").first()
    return int(event.extra.get("last_sequence") or 0) if event else 0


def audit_event_get(*, sequence: int) -> AuditEvent | None:
    return AuditEvent.objects.filter(sequence=sequence).first()


def audit_event_neighbours(*, sequence: int) -> tuple[AuditEvent | None, AuditEvent | None]:
    """The events just before and after in the chain (not in any filter)."""
    return audit_event_get(sequence=sequence - 1), audit_event_get(sequence=sequence + 1)


def audit_chain_head() -> AuditChainHead:
    return AuditChainHead.objects.filter(pk=1).first() or AuditChainHead(pk=1)


def audit_latest_checkpoint() -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.order_by("-sequence", "-id").first()


def audit_chain_status() -> ChainStatus:
    head = audit_chain_head()
    checkpoint = audit_latest_checkpoint()
    behind = head.sequence - checkpoint.sequence if checkpoint else head.sequence
    return ChainStatus(head.sequence, head.hash, head.occurred_at, checkpoint, behind)


def audit_verification_result(*, request_sequence: int) -> AuditEvent | None:
    """The answer to a *Verify now* request: the first verification recorded after it.

    Any verification that ran after the request answers it (the hourly one included): it
    covers at least every event the person asking could see.
    """
    verified = AuditEvent.objects.filter(action__in=[Action.CHAIN_CHECKPOINT, Action.CHAIN_BROKEN], sequence__gt=request_sequence)
    return verified.order_by("sequence").first()


def audit_export_manifest(*, event_sequence: int) -> dict[str, Any] | None:
    export = AuditExport.objects.filter(event_sequence=event_sequence, manifest__isnull=False).first()
    return export.manifest if export else None
