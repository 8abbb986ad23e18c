"""What a stored conversation event asks for (``events_process_task``): a rule fired, or waits settled.

* ``user.end`` (the agent leg ended, ACW starts): read the leg back, and if it is in ACW and a
  rule matches, request the rule's code through the assignment engine and run it at once.
* ``acw`` (ACW over): whatever waits for the leg is run at once, so it settles now.

Safe to run twice: the event row is claimed (compare-and-set) before any work, and a leg that
already has a live assignment, or an applied one from a rule, is not assigned again.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from integrations.genesys import GenesysClient, GenesysError, NotFoundError
from wrapup_portal.assignments.engine import assignment_execute
from wrapup_portal.assignments.legs import leg_from_participant
from wrapup_portal.assignments.models import (
    LIVE_STATES,
    Assignment,
    ConversationEvent,
    EventKind,
    EventOutcome,
    LegState,
    Source,
    State,
)
from wrapup_portal.assignments.rules import rule_for_leg, rule_leg_from_participant, rule_notes
from wrapup_portal.assignments.services import NOTES_MAX, Requester, assignment_request_for_leg
from wrapup_portal.audit.services import Actor
from wrapup_portal.core.genesys import get_genesys_client


def leg_waiting(conversation_id: str, participant_id: str) -> QuerySet[Assignment]:
    """The leg's assignments not yet sent: requested, or waiting for ACW."""
    return Assignment.objects.filter(conversation_id=conversation_id, participant_id=participant_id,
                                     state__in=(State.REQUESTED, State.WAITING_FOR_ACW))  # fmt: skip

def event_process(*, event_id: int, client: GenesysClient | None = None) -> ConversationEvent | None:
    """Do what one stored event asks. Safe to run twice: the row is claimed first."""
    now = timezone.now()
    claimed = ConversationEvent.objects.filter(pk=event_id, processed_at__isnull=True).update(
        processed_at=now, outcome=EventOutcome.PROCESSING, tries=F("tries") + 1)
    if not claimed:
        return ConversationEvent.objects.filter(pk=event_id).first()
    event = ConversationEvent.objects.get(pk=event_id)
    try:
        client = client or get_genesys_client()
    except GenesysError as error:  # not configured: recorded; the poller looks again once it is
        ConversationEvent.objects.filter(pk=event.pk).update(outcome=EventOutcome.ERROR, detail=str(error)[:2000],
                                                             processed_at=timezone.now())  # fmt: skip
        return ConversationEvent.objects.get(pk=event.pk)
    if event.kind == EventKind.USER_END:
        outcome, detail, assignment = rule_fire(conversation_id=event.conversation_id,
                                                participant_id=event.participant_id, client=client)  # fmt: skip
    else:
        outcome, detail, assignment = _settle(event, client)
    ConversationEvent.objects.filter(pk=event.pk).update(outcome=outcome, detail=detail[:2000], assignment=assignment,
                                                         processed_at=timezone.now())  # fmt: skip
    event.refresh_from_db()
    return event


def leg_has_assignment(conversation_id: str, participant_id: str) -> bool:
    """True when the leg has a live assignment (anyone's) or an applied one from a rule: a rule leaves it alone."""
    return Assignment.objects.filter(
        Q(state__in=LIVE_STATES) | Q(source=Source.RULE, state=State.APPLIED),
        conversation_id=conversation_id, participant_id=participant_id,
    ).exists()  # fmt: skip


def rule_fire(*, conversation_id: str, participant_id: str,
              client: GenesysClient) -> tuple[str, str, Assignment | None]:  # fmt: skip
    """Code one leg by the first matching rule, if it is in ACW; returns (outcome, detail, assignment).

    The leg is read back (events can be early, late or forged) and must be in ACW. The
    assignment goes through the engine (source rule, the rule recorded) and is run at once.
    """
    if leg_has_assignment(conversation_id, participant_id):
        return EventOutcome.ALREADY, "", None
    try:
        conversation = client.get_conversation(conversation_id)
    except (NotFoundError, ValueError):
        return EventOutcome.GONE, "", None
    except GenesysError as error:
        return EventOutcome.ERROR, str(error), None
    participant = conversation.participant(participant_id)
    if participant is None:
        return EventOutcome.GONE, "", None
    if participant.purpose != "agent":
        return EventOutcome.NOT_AGENT, participant.purpose or "", None
    leg = leg_from_participant(conversation.id, participant)
    if leg.state != LegState.ACW:
        return EventOutcome.NOT_IN_ACW, leg.state, None
    rule_leg = rule_leg_from_participant(conversation, participant)
    rule = rule_for_leg(rule_leg)
    if rule is None:
        return EventOutcome.NO_RULE, "", None
    try:
        notes = rule_notes(rule, rule_leg)[:NOTES_MAX]
    except (KeyError, ValueError, IndexError):  # a template the rule form should have refused
        notes = ""
    try:
        # From the read just taken (no second read), and not queued: it runs here and now, as the
        # latency target is one second; if this worker dies, the sweeper finds the row due.
        with transaction.atomic():
            assignment = assignment_request_for_leg(
                leg=leg, code=rule.code, requester=Requester(Actor.rule(rule.pk, rule.name)), source=Source.RULE,
                notes=notes, reason=f"rule {rule.name!r}", enqueue=False,
            )  # fmt: skip
            Assignment.objects.filter(pk=assignment.pk).update(rule=rule)
    except ValidationError as error:
        return EventOutcome.REFUSED, f"rule {rule.name!r}: {error.messages[0]}", None
    done = assignment_execute(assignment_id=assignment.pk, client=client) or assignment
    return EventOutcome.ASSIGNED, f"rule {rule.name!r}: assignment #{assignment.pk} {done.state}", assignment


def _settle(event: ConversationEvent, client: GenesysClient) -> tuple[str, str, Assignment | None]:
    """ACW is over: run what waits for this leg now (it expires with the final code, or applies)."""
    waiting = list(leg_waiting(event.conversation_id, event.participant_id))
    if not waiting:
        return EventOutcome.NOTHING, "", None
    states = []
    for assignment in waiting:
        # Due now: the engine would otherwise leave a waiting row until its next check.
        Assignment.objects.filter(pk=assignment.pk, state__in=(State.REQUESTED, State.WAITING_FOR_ACW)).update(
            next_attempt_at=timezone.now())
        done = assignment_execute(assignment_id=assignment.pk, client=client)
        states.append(f"#{assignment.pk} {getattr(done, 'state', 'missing')}")
    return EventOutcome.SETTLED, ", ".join(states), waiting[-1]
