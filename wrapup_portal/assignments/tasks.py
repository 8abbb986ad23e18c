"""Background tasks of assignments (django-q2): plain functions taking ids, safe to run twice."""

from __future__ import annotations

from collections.abc import Sequence

from wrapup_portal.assignments import event_processing, poller, services
from wrapup_portal.assignments.engine import assignment_execute, assignments_lost


def assignments_execute_task(assignment_ids: Sequence[int], fed: bool = False) -> str:
    """Run a chunk of assignments one after the other (each claimed on its own).

    A ``fed`` chunk (``assignment_feed``) was reserved for this task: it runs even though its rows'
    next attempt lies ahead, and then feeds the next chunk, so a bulk job flows a chunk at a time.
    With nothing left to feed, it waits for a retry about to fall due (``assignment_feed_follow_up``).
    """
    states = [getattr(assignment_execute(assignment_id=pk, reserved=fed), "state", "missing") for pk in assignment_ids]
    more = services.assignment_feed(chunks=1) if fed else 0
    if fed and not more:
        more = services.assignment_feed_follow_up()
    return ", ".join(f"{pk}:{state}" for pk, state in zip(assignment_ids, states)) + (f"; fed {more}" if more else "")


def assignments_sweep() -> str:
    """Every minute: re-read what a dead worker left "sending", and feed what is due (waiting legs,
    retries, a bulk job whose feeding task was lost). Nothing depends on one enqueue surviving."""
    lost = assignments_lost()
    if lost:
        services.assignment_enqueue(lost)
    fed = services.assignment_feed(chunks=1)
    return f"{len(lost)} lost write(s) to read back, {fed} due assignment(s) queued"


def events_process_task(event_id: int) -> str:
    """A stored conversation event (the hook's or the poller's): fire a rule, or settle what waits."""
    event = event_processing.event_process(event_id=event_id)
    return f"event {event_id}: {getattr(event, 'outcome', 'missing')} {getattr(event, 'detail', '')}".strip()


def events_poll_task() -> str:
    """Every minute: legs in ACW without a code on rule-covered queues that no event brought in."""
    return poller.legs_poll_safely()
