"""Reads for the assignment pages: lists, a job's progress, and the reviews shown before a bulk confirm.

A team lead sees an assignment only on a queue granted to them, and a job only when every one
of its legs is (an admin's job that spans other queues is not theirs to see); anything else is
answered as if it did not exist, so ids cannot be probed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, OuterRef, QuerySet, Subquery

from wrapup_portal.assignments.csv_rows import parse_assignment_csv
from wrapup_portal.assignments.models import FINAL_STATES, Assignment, BulkJob, State
from wrapup_portal.assignments.services import Preview, Requester, Verdict, Wanted, bulk_preview
from wrapup_portal.audit.models import AuditEvent
from wrapup_portal.catalog.models import CodeGroup, WrapupCode

JOB_LIST_LIMIT = 10
NOTHING_TO_QUEUE = "None of these can be queued; nothing was done."
CHANGED_SINCE_PREVIEW = ("Something changed since the preview (a leg moved on, or a grant or the catalog changed), so "
                         "nothing was queued. This is the preview as it is now: check it and confirm again.")  # fmt: skip
BAD_ROWS_BLOCK = ("{count} row{s} cannot be queued. Nothing was queued: fix them and upload again, or choose to queue "
                  "the good rows and skip the bad ones.")  # fmt: skip


# --- codes a form may offer ---------------------------------------------------------------------------
def codes_offered(*, queue_ids: Sequence[str] | set[str]) -> QuerySet[WrapupCode]:
    """Active codes the code groups of these queues offer (the catalog's copy of Genesys)."""
    return (WrapupCode.objects.filter(memberships__group__queue_id__in=list(queue_ids), retired_at__isnull=True)
            .distinct().order_by("name"))  # fmt: skip


# --- assignments and jobs -----------------------------------------------------------------------------
def _with_queue_name(rows: QuerySet[Assignment]) -> QuerySet[Assignment]:
    return rows.annotate(queue_name=Subquery(CodeGroup.objects.filter(queue_id=OuterRef("queue_id")).values("name")[:1]))


def assignments_visible(*, allowed: set[str] | None) -> QuerySet[Assignment]:
    rows = _with_queue_name(Assignment.objects.select_related("job"))
    return rows if allowed is None else rows.filter(queue_id__in=allowed)


def assignment_list(*, user: AbstractBaseUser, allowed: set[str] | None, states: Sequence[str] = ()) -> QuerySet[Assignment]:
    """Newest first: the user's own (a team lead), or everyone's (an admin, who may act on every queue)."""
    rows = assignments_visible(allowed=allowed)
    if allowed is not None:
        rows = rows.filter(requested_by=user)
    if states:
        rows = rows.filter(state__in=states)
    return rows.order_by("-id")


def assignment_get(*, pk: int, allowed: set[str] | None) -> Assignment | None:
    return assignments_visible(allowed=allowed).filter(pk=pk).first()


def assignment_history(*, assignment: Assignment) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(target_kind="assignment", target_id=str(assignment.pk)).order_by("sequence")


def job_get(*, pk: int, user: AbstractBaseUser, allowed: set[str] | None) -> BulkJob | None:
    job = BulkJob.objects.select_related("requested_by").filter(pk=pk).first()
    if job is None or allowed is None:
        return job
    if job.assignments.exclude(queue_id__in=allowed).exists():
        return None
    if not job.assignments.exists() and job.requested_by_id != user.pk:
        return None
    return job


def job_list(*, user: AbstractBaseUser, allowed: set[str] | None, limit: int = JOB_LIST_LIMIT) -> list[BulkJob]:
    jobs = BulkJob.objects.annotate(size=Count("assignments")).order_by("-id")
    if allowed is not None:  # their own, and only while every leg is still on their queues (as job_get says)
        jobs = jobs.filter(requested_by=user).exclude(assignments__in=Assignment.objects.exclude(queue_id__in=allowed))
    return list(jobs[:limit])


def job_assignments(*, job: BulkJob) -> QuerySet[Assignment]:
    """The job's legs, each by its newest try: a row retried inside the job is left out."""
    return _with_queue_name(_current(job)).order_by("id")


def _current(job: BulkJob) -> QuerySet[Assignment]:
    return job.assignments.exclude(superseded_by__job=job)


@dataclass(frozen=True)
class Progress:
    counts: tuple[tuple[str, str, int], ...]  # (state, label, count), life-cycle order, zeros left out
    total: int
    finished: int

    @property
    def live(self) -> bool:
        return self.finished < self.total

    @property
    def percent(self) -> int:
        return 100 if not self.total else self.finished * 100 // self.total


def job_progress(*, job: BulkJob) -> Progress:
    rows = _current(job).order_by().values("state").annotate(n=Count("id"))
    by_state = {row["state"]: row["n"] for row in rows}
    counts = tuple((state, label, by_state[state]) for state, label in State.choices if by_state.get(state))
    finished = sum(n for state, n in by_state.items() if state in FINAL_STATES)
    return Progress(counts, sum(by_state.values()), finished)


# --- the review before a bulk or CSV confirm -------------------------------------------------------------
@dataclass(frozen=True)
class ReviewRow:
    line: int
    conversation_id: str
    participant_id: str
    code_name: str
    queue_name: str
    verdict: str
    message: str
    ok: bool

    @property
    def tone(self) -> str:
        """The verdict at a glance (a ``status-*`` class): ok (written), skipped (queued, may not be written), down (not queued)."""
        if self.verdict in (Verdict.WILL_APPLY, Verdict.ALREADY):
            return "ok"
        return "skipped" if self.ok else "down"


@dataclass
class Review:
    """What a confirm would queue: a bulk preview, plus the CSV's own bad rows; writes nothing."""

    preview: Preview
    rows: list[ReviewRow] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)  # the file as a whole (header, size, encoding)

    @property
    def ok_count(self) -> int:
        return len(self.preview.ok_rows)

    @property
    def bad_count(self) -> int:
        return sum(1 for row in self.rows if not row.ok)

    @property
    def counts(self) -> list[tuple[str, int]]:
        out: dict[str, int] = {}
        for row in self.rows:
            out[row.verdict] = out.get(row.verdict, 0) + 1
        order = (Verdict.WILL_APPLY, Verdict.ALREADY, Verdict.WAITS, Verdict.FINAL, Verdict.NOT_ALLOWED, Verdict.INVALID)
        return sorted(out.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order))

    @property
    def digest(self) -> str:
        """What the confirm button promises to queue; a confirm whose re-run differs is refused."""
        legs = sorted(f"{r.leg.conversation_id}/{r.leg.participant_id}/{r.code.code_id if r.code else ''}/{r.notes}"
                      for r in self.preview.ok_rows if r.leg is not None)  # fmt: skip
        return hashlib.sha256("\n".join(legs).encode()).hexdigest()[:32]

    def confirm_problem(self, *, digest: str, skip_invalid: bool) -> str | None:
        """Why a confirm must not queue this (re-run) review; None when it may."""
        if not self.ok_count:
            return NOTHING_TO_QUEUE
        if digest != self.digest:
            return CHANGED_SINCE_PREVIEW
        if self.bad_count and not skip_invalid:
            return BAD_ROWS_BLOCK.format(count=self.bad_count, s="" if self.bad_count == 1 else "s")
        return None


def _review_rows(preview: Preview) -> list[ReviewRow]:
    queue_ids = {row.leg.queue_id for row in preview.rows if row.leg is not None}
    names = dict(CodeGroup.objects.filter(queue_id__in=queue_ids).values_list("queue_id", "name"))
    return [
        ReviewRow(row.line, row.conversation_id, row.participant_id, row.code.name if row.code else "",
                  names.get(row.leg.queue_id, row.leg.queue_id) if row.leg else "", row.verdict, row.message, row.ok)
        for row in preview.rows
    ]  # fmt: skip


def selection_review(*, legs: Sequence[tuple[str, str]], code: WrapupCode, notes: str, requester: Requester) -> Review:
    """Legs picked on the search page, one code: one analytics read per 100 conversations."""
    wanted = [Wanted(cid, pid, code.code_id, notes) for cid, pid in legs]
    preview = bulk_preview(wanted=wanted, requester=requester)
    return Review(preview, _review_rows(preview))


def csv_review(*, data: bytes, requester: Requester) -> Review:
    """An uploaded CSV: the parser's bad rows and the preview's verdicts, together in line order."""
    parsed = parse_assignment_csv(data)
    file_errors = [str(e) if e.line else e.message for e in parsed.errors if e.line <= 1]  # 0: the file, 1: its header
    if file_errors:
        return Review(Preview(), [], file_errors)
    preview = bulk_preview(wanted=[w for _, w in parsed.rows], lines=[line for line, _ in parsed.rows],
                           requester=requester) if parsed.rows else Preview()  # fmt: skip
    rows = _review_rows(preview) + [ReviewRow(e.line, "", "", "", "", Verdict.INVALID, e.message, False) for e in parsed.errors]
    rows.sort(key=lambda row: row.line)
    return Review(preview, rows)
