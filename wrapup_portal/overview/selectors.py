"""What each role's overview shows: read from the portal's tables and from the same Genesys
reads as the search and the live board (cached, one query for every user, filtered per user).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from django.core.cache import cache
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from integrations.genesys import GenesysError
from integrations.genesys.analytics import WRAP_UP_TIMEOUT
from wrapup_portal.assignments.models import Assignment, Rule, Source, State
from wrapup_portal.assignments.rule_selectors import rule_list
from wrapup_portal.assignments.selectors import assignments_visible
from wrapup_portal.audit.models import Action, AuditEvent
from wrapup_portal.catalog.models import CodeGroup, SyncRun
from wrapup_portal.catalog.selectors import sync_run_last_success, sync_run_latest
from wrapup_portal.core.read_cache import reads_generation
from wrapup_portal.interactions.search import Search, WrapupState
from wrapup_portal.interactions.selectors import acw_board, interaction_search_all
from wrapup_portal.overview.charts import PATTERNS

TODAY_CACHE_SECONDS = 60
TODAY_MAX_PAGES = 20  # 2,000 conversations: beyond that the page says the figures are partial
ATTENTION_WINDOW = timedelta(hours=24)
ATTENTION_SHOWN = 10
AUDIT_DAYS = 14
# The audit chart stacks actions by their first part ("assignment.applied" -> assignment).
FAMILY_LABELS = {
    "assignment": "Assignments", "auth": "Sign-in and access", "sync": "Catalog sync", "rule": "Rules",
    "grant": "Queue grants", "catalog": "Catalog settings", "webhook": "Event hook", "audit": "Audit log itself",
}  # fmt: skip


@dataclass
class QueueToday:
    queue_id: str
    name: str
    in_acw: int = 0  # in after-call work now, no code yet
    finished: int = 0  # legs today whose after-call work is over
    timed_out: int = 0  # of those, ININ-WRAP-UP-TIMEOUT

    @property
    def timeout_percent(self) -> float:
        return 100 * self.timed_out / self.finished if self.finished else 0.0


@dataclass(frozen=True)
class Attention:
    failed: int
    waiting: int
    rows: tuple[Assignment, ...]  # the newest of them


@dataclass
class LeadOverview:
    queues: list[QueueToday]  # empty when Genesys could not be read (``problem`` says why)
    today_partial: bool  # the day had more conversations than TODAY_MAX_PAGES pages
    applied_by_source: list[tuple[str, int]]  # (source label, count), every source listed
    attention: Attention
    as_of: datetime
    no_queues: bool = False
    problem: GenesysError | None = None


@dataclass
class AdminExtras:
    last_run: SyncRun | None
    last_success: SyncRun | None
    rules: list[Rule] = field(default_factory=list)


@dataclass(frozen=True)
class AuditDays:
    days: tuple[date, ...]
    families: tuple[str, ...]  # FAMILY_LABELS of the actions' first parts, most events first
    counts: dict[str, tuple[int, ...]]  # family -> one count per day
    by_action: tuple[tuple[str, int], ...]  # every action seen in the window, most frequent first


def start_of_today(now: datetime) -> datetime:
    """Midnight in the active time zone (the user's, see UserTimeZoneMiddleware)."""
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def lead_overview(*, allowed: set[str] | None, now: datetime | None = None) -> LeadOverview:
    """The team lead's (or, with ``allowed`` None, the admin's) view of today.

    The portal's own figures are always there; when Genesys cannot be read, ``problem``
    holds why and the queues' figures are left out rather than shown as zeros.
    """
    now = now or timezone.now()
    applied = _applied_by_source(allowed=allowed, since=start_of_today(now))
    if allowed is not None and not allowed:
        return LeadOverview([], False, applied, Attention(0, 0, ()), now, no_queues=True)
    attention = _attention(allowed=allowed, now=now)
    try:
        queues, partial = _queues_today(allowed=allowed, now=now)
    except GenesysError as error:
        return LeadOverview([], False, applied, attention, now, problem=error)
    return LeadOverview(queues, partial, applied, attention, now)


def _queues_today(*, allowed: set[str] | None, now: datetime) -> tuple[list[QueueToday], bool]:
    board = acw_board(allowed=allowed, now=now)
    totals, partial = _today_by_queue(now)
    names = dict(CodeGroup.objects.filter(removed_at__isnull=True).values_list("queue_id", "name"))
    wanted = set(names) if allowed is None else allowed
    queues = {q: QueueToday(q, names.get(q, q)) for q in wanted}
    for row in board.in_acw:
        if row.queue_id in queues:
            queues[row.queue_id].in_acw += 1
    for queue_id, (finished, timed_out) in totals.items():
        if queue_id in queues:
            queues[queue_id].finished, queues[queue_id].timed_out = finished, timed_out
    shown = sorted(queues.values(), key=lambda q: (-q.in_acw, -q.timeout_percent, q.name.lower()))
    if allowed is None:  # an admin: the queues with something to show, not every queue of the org
        shown = [q for q in shown if q.in_acw or q.finished] or shown[:10]
    return shown, partial


def _today_by_queue(now: datetime) -> tuple[dict[str, tuple[int, int]], bool]:
    """Per queue: agent legs whose after-call work ended today, and how many timed out.

    One search over every queue serves every user (each then sees their queues), cached a
    minute under the reads generation, so a wrap-up the portal writes shows at once.
    """
    start = start_of_today(now)
    key = f"overview:today:{reads_generation()}:{start.isoformat()}:{now.replace(second=0, microsecond=0).isoformat()}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    partial = False
    for row in interaction_search_all(search=Search(start=start, end=now, wrapup=WrapupState.ANY), max_pages=TODAY_MAX_PAGES):
        if row is None:
            partial = True
            break
        if row.state != "final" or not row.wrapup_code:
            continue
        counts[row.queue_id][0] += 1
        counts[row.queue_id][1] += row.wrapup_code == WRAP_UP_TIMEOUT
    result = ({q: (f, t) for q, (f, t) in counts.items()}, partial)
    cache.set(key, result, TODAY_CACHE_SECONDS)
    return result


def _applied_by_source(*, allowed: set[str] | None, since: datetime) -> list[tuple[str, int]]:
    rows = Assignment.objects.filter(state=State.APPLIED, finished_at__gte=since)
    if allowed is not None:
        rows = rows.filter(queue_id__in=allowed)
    found = dict(rows.values_list("source").annotate(n=Count("id")).values_list("source", "n"))
    return [(label, found.get(value, 0)) for value, label in Source.choices]


def _attention(*, allowed: set[str] | None, now: datetime) -> Attention:
    rows = assignments_visible(allowed=allowed).filter(
        Q(state=State.FAILED, finished_at__gte=now - ATTENTION_WINDOW) | Q(state=State.WAITING_FOR_ACW)
    )
    counts = Counter(dict(rows.values_list("state").annotate(n=Count("id")).values_list("state", "n")))
    newest = tuple(rows.order_by("-updated_at")[:ATTENTION_SHOWN])
    return Attention(counts[State.FAILED], counts[State.WAITING_FOR_ACW], newest)


def admin_extras(*, now: datetime | None = None) -> AdminExtras:
    return AdminExtras(sync_run_latest(), sync_run_last_success(), list(rule_list(now=now)))


def audit_days(*, now: datetime | None = None, days: int = AUDIT_DAYS, tz: tzinfo | None = None) -> AuditDays:
    """Audit events per day (in the user's time zone) over the last ``days`` days, by action."""
    now = now or timezone.now()
    tz = tz or timezone.get_current_timezone()
    first = start_of_today(now) - timedelta(days=days - 1)
    rows = (
        AuditEvent.objects.filter(occurred_at__gte=first)
        .annotate(day=TruncDate("occurred_at", tzinfo=tz))
        .values_list("day", "action")
        .annotate(n=Count("sequence"))
    )
    wanted = tuple(first.date() + timedelta(days=i) for i in range(days))
    per_family: dict[str, list[int]] = defaultdict(lambda: [0] * days)
    by_action: Counter[str] = Counter()
    for day, action, n in rows:
        index = (day - wanted[0]).days
        if 0 <= index < days:
            family = action.split(".", 1)[0]
            per_family[FAMILY_LABELS.get(family, family)][index] += n
            by_action[action] += n
    families = sorted(per_family, key=lambda f: -sum(per_family[f]))
    if len(families) > len(PATTERNS):  # one pattern per kind: the least frequent kinds share "Other"
        rest = families[len(PATTERNS) - 1:]
        per_family["Other"] = [sum(per_family[f][i] for f in rest) for i in range(days)]
        families = [*families[:len(PATTERNS) - 1], "Other"]
    families = tuple(families)
    labels = dict(Action.choices)
    return AuditDays(
        wanted, families, {f: tuple(per_family[f]) for f in families},
        tuple((labels.get(action, action), n) for action, n in by_action.most_common()),
    )  # fmt: skip
