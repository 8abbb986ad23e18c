"""The overview each role lands on after sign-in: how its world is doing, as charts and tables."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from wrapup_portal.accounts.roles import perm
from wrapup_portal.accounts.selectors import queue_ids_for
from wrapup_portal.audit.selectors import audit_chain_status
from wrapup_portal.interactions.search import WrapupState
from wrapup_portal.interactions.views import NO_QUEUES, genesys_problem
from wrapup_portal.overview import selectors
from wrapup_portal.overview.charts import Bar, Series, bar_chart, stacked_columns

logger = logging.getLogger(__name__)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context: dict[str, object] = {"roles": list(user.groups.values_list("name", flat=True)), "NO_QUEUES": NO_QUEUES}
    if user.has_perm(perm("view_interactions")):
        context.update(_queues_context(request))
    if user.has_perm(perm("manage_catalog")) or user.has_perm(perm("manage_rules")):
        extras = selectors.admin_extras()
        context["extras"] = extras
        context["rules_chart"] = bar_chart(
            chart_id="chart-rules", title="Legs coded by each rule today",
            bars=[Bar(r.name, r.coded_today, f"{r.coded_today} coded, {r.failed_today} failed", reverse("rules:list"))
                  for r in extras.rules if r.enabled or r.coded_today or r.failed_today],
        ) if extras.rules else None  # fmt: skip
    if user.has_perm(perm("view_audit")):
        context.update(_audit_context())
    return render(request, "overview/home.html", context)


def _queues_context(request: HttpRequest) -> dict[str, object]:
    overview = selectors.lead_overview(allowed=queue_ids_for(user=request.user))
    if overview.problem is not None:
        logger.warning("Overview could not read Genesys: %s", overview.problem)
    search = reverse("interactions:search")
    board = reverse("interactions:board")
    return {
        "overview": overview,
        "problem": genesys_problem(overview.problem) if overview.problem else "",
        "overview_in_acw": sum(q.in_acw for q in overview.queues),
        "overview_finished": sum(q.finished for q in overview.queues),
        "overview_applied": sum(count for _, count in overview.applied_by_source),
        "today_max": selectors.TODAY_MAX_PAGES * 100,
        "acw_chart": bar_chart(
            chart_id="chart-acw", title="Legs in after-call work now without a code, per queue",
            bars=[Bar(q.name, q.in_acw, f"{q.in_acw}", board) for q in overview.queues],
        ),
        "timeout_chart": bar_chart(
            chart_id="chart-timeouts", title="Share of today's finished legs that timed out, per queue", maximum=100,
            bars=[Bar(q.name, q.timeout_percent, f"{q.timeout_percent:.0f}% ({q.timed_out} of {q.finished})",
                      f"{search}?{urlencode({'queue': q.queue_id, 'wrapup': WrapupState.TIMEOUT, 'preset': 'today'})}")
                  for q in overview.queues],
        ),
        "source_chart": bar_chart(
            chart_id="chart-sources", title="Codes applied by the portal today, by source",
            bars=[Bar(label, count, f"{count}") for label, count in overview.applied_by_source],
        ),
    }  # fmt: skip


def _audit_context() -> dict[str, object]:
    days = selectors.audit_days()
    columns = [d.strftime("%d %b") for d in days.days]
    return {
        "audit_days": days,
        "audit_columns": columns,
        "audit_rows": [(day, [days.counts[f][i] for f in days.families]) for i, day in enumerate(columns)],
        "audit_chart": stacked_columns(
            chart_id="chart-audit", title=f"Audit events per day over the last {len(columns)} days, by kind of action",
            columns=columns, series=[Series(f, days.counts[f]) for f in days.families],
        ),
        "chain": audit_chain_status(),
    }
