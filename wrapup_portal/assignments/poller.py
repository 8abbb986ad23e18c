"""The rules' polling safety net: legs in ACW without a code that no event brought in.

Every minute (schedule registered by migration 0004) one analytics query asks for agent legs
in after-call work without a code on the queues of enabled rules, over the last few hours.
Each leg found goes through the event path's own row (``ConversationEvent``, one per leg and
kind), so a leg the events already handled is neither read nor assigned again; a lost event
costs the polling interval, not a missed code.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from integrations.genesys import ConversationQuery, GenesysClient, GenesysError
from wrapup_portal.assignments.event_processing import leg_has_assignment
from wrapup_portal.assignments.events import EventRejected, ParsedEvent, event_enqueue, event_receive, events_prune
from wrapup_portal.assignments.models import ConversationEvent, EventKind, EventOutcome, Rule
from wrapup_portal.core.genesys import get_genesys_client

WINDOW = timedelta(hours=4)  # conversations started this long ago may still be in ACW
RETRY_OUTCOMES = (EventOutcome.NOT_IN_ACW, EventOutcome.ERROR)  # worth another look once the leg is seen in ACW
STALE_CLAIM = timedelta(minutes=5)  # a row "processing" this long lost its worker
MAX_TRIES = 5


def rule_queue_ids() -> list[str]:
    """The queues enabled rules cover."""
    ids = Rule.objects.filter(enabled=True).values_list("queue__queue_id", flat=True)
    return sorted({i for i in ids if i})


def legs_poll(*, client: GenesysClient | None = None, now: datetime | None = None) -> dict[str, int]:
    """Queue the processing of covered legs in ACW without a code that have none yet; returns counts."""
    counts = {"found": 0, "queued": 0, "retried": 0, "handled": 0, "dropped": 0}
    queue_ids = rule_queue_ids()
    if not queue_ids:
        return counts
    now = now or timezone.now()
    query = ConversationQuery(start=now - WINDOW, end=now + timedelta(minutes=1), ended_only=False, acw_open=True,
                              wrapup_code_missing=True, queue_ids=tuple(queue_ids))  # fmt: skip
    client = client or get_genesys_client()
    for conversation in client.iter_conversation_details(query):
        for leg in query.matching_legs(conversation):
            counts["found"] += 1
            cid, pid = conversation.conversation_id, leg.participant_id
            if leg_has_assignment(cid, pid):
                counts["handled"] += 1
                continue
            queue_id = next(iter(sorted(leg.queue_ids & set(queue_ids))), "")
            event = ParsedEvent(kind=EventKind.USER_END, conversation_id=cid, participant_id=pid,
                                user_id=leg.user_id or "", queue_id=queue_id,
                                payload={"conversationId": cid, "participantId": pid, "queueId": queue_id})  # fmt: skip
            try:
                row, created = event_receive(event=event, via="poll")
            except EventRejected:
                counts["dropped"] += 1
                continue
            if created:
                counts["queued"] += 1
            elif _reopen(row, now):
                counts["retried"] += 1
            else:
                counts["handled"] += 1
    return counts


def _reopen(row: ConversationEvent, now: datetime) -> bool:
    """Run an event again whose leg was not yet in ACW, whose read failed, or whose worker died."""
    if row.tries >= MAX_TRIES:
        return False
    retry = row.processed_at is not None and row.outcome in RETRY_OUTCOMES
    stale = row.outcome == EventOutcome.PROCESSING and row.processed_at is not None and row.processed_at < now - STALE_CLAIM
    if not (retry or stale):
        return False
    if not ConversationEvent.objects.filter(pk=row.pk, outcome=row.outcome, processed_at=row.processed_at).update(
            processed_at=None, outcome=""):  # fmt: skip
        return False
    event_enqueue(row.pk)
    return True


def legs_poll_safely(*, client: GenesysClient | None = None) -> str:
    """The scheduled run (old events pruned first): a failed analytics read is reported, and the next minute tries again."""
    pruned = events_prune()
    try:
        counts = legs_poll(client=client)
    except GenesysError as error:
        return f"analytics read failed: {error}"
    summary = ", ".join(f"{value} {name}" for name, value in counts.items())
    return summary + (f"; {pruned} old event(s) pruned" if pruned else "")
