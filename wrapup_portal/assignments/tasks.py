"""Background tasks of assignments (django-q2): plain functions taking ids, safe to run twice."""

from __future__ import annotations

from collections.abc import Sequence

from wrapup_portal.assignments.engine import assignment_execute, assignments_due
from wrapup_portal.assignments.services import assignment_enqueue


def assignments_execute_task(assignment_ids: Sequence[int]) -> str:
    """Run a chunk of assignments one after the other (each claimed on its own)."""
    states = [getattr(assignment_execute(assignment_id=pk), "state", "missing") for pk in assignment_ids]
    return ", ".join(f"{pk}:{state}" for pk, state in zip(assignment_ids, states))


def assignments_sweep() -> str:
    """Every minute: queue what is due (waiting legs, retries) and what a dead worker left "sending".

    Nothing depends on a single enqueue surviving: a lost task is picked up here.
    """
    ids = assignments_due()
    if ids:
        assignment_enqueue(ids)
    return f"{len(ids)} assignment(s) queued"
