"""Reads for the rule pages: the ordered list with today's outcomes, and the 24-hour dry run.

The dry run asks analytics once for the last 24 hours of the enabled rules' queues and runs
every agent leg through the same ``rule_pick`` the event path and the poller use, so a leg
counts for the rule that would have won it (first match by priority), never for two.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from integrations.genesys import GenesysClient
from integrations.genesys.query import ConversationQuery
from wrapup_portal.assignments.models import Rule, Source, State
from wrapup_portal.assignments.rules import RuleLeg, rule_leg_from_analytics, rule_pick

DRY_RUN_WINDOW = timedelta(hours=24)
DRY_RUN_SHOWN = 50  # legs listed per rule; the count covers them all
DRY_RUN_MAX_CONVERSATIONS = 20_000  # bounds one page view's analytics reads (200 pages)


def rule_list(*, now: datetime | None = None) -> QuerySet[Rule]:
    """Every rule by priority, with ``coded_today`` (applied) and ``failed_today`` (failed or expired)."""
    now = now or timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    mine = Q(assignments__source=Source.RULE, assignments__created_at__gte=today)
    return (
        Rule.objects.select_related("queue", "code")
        .annotate(
            coded_today=Count("assignments", filter=mine & Q(assignments__state=State.APPLIED)),
            failed_today=Count("assignments", filter=mine & Q(assignments__state__in=[State.FAILED, State.EXPIRED])),
        )
        .order_by("priority", "id")
    )


@dataclass
class DryRunRule:
    rule: Rule
    count: int = 0
    legs: list[tuple[datetime, RuleLeg]] = field(default_factory=list)


@dataclass
class DryRun:
    start: datetime
    end: datetime
    rules: list[DryRunRule]
    legs_seen: int = 0
    truncated: bool = False  # more conversations than DRY_RUN_MAX_CONVERSATIONS


def rule_dry_run(*, client: GenesysClient, now: datetime | None = None) -> DryRun:
    """Which of the last 24 hours' agent legs each enabled rule would have matched."""
    rules = list(Rule.objects.filter(enabled=True).select_related("queue", "code").order_by("priority", "id"))
    rows = {rule.pk: DryRunRule(rule) for rule in rules}
    by_queue: dict[str, list[Rule]] = {}
    for rule in rules:
        by_queue.setdefault(rule.queue.queue_id, []).append(rule)
    query = ConversationQuery.last(DRY_RUN_WINDOW, now=now, queue_ids=tuple(by_queue), ended_only=False, purpose="agent")
    result = DryRun(start=query.start, end=query.end, rules=list(rows.values()))
    if not by_queue:
        return result
    for number, conversation in enumerate(client.iter_conversation_details(query), start=1):
        if number > DRY_RUN_MAX_CONVERSATIONS:
            result.truncated = True
            break
        for participant in query.matching_legs(conversation):
            leg = rule_leg_from_analytics(conversation, participant)
            result.legs_seen += 1
            rule = rule_pick(by_queue.get(leg.queue_id, []), leg)
            if rule is not None:
                row = rows[rule.pk]
                row.count += 1
                if len(row.legs) < DRY_RUN_SHOWN:
                    row.legs.append((conversation.conversation_start, leg))
    return result
