"""A queue grant revoked (or an account deactivated) while a lead's assignments are still queued
stops every further write in that lead's name: the rows fail with a reason, audited, and the
sandbox sees no write (and no read) for them."""

from __future__ import annotations

from typing import Any

import pytest

from wrapup_portal.accounts.services import queue_grants_set
from wrapup_portal.assignments import engine
from wrapup_portal.assignments.models import Assignment, BulkJob, Source, State
from wrapup_portal.assignments.services import Requester, Wanted, bulk_job_create, bulk_preview
from wrapup_portal.audit.models import Action, AuditEvent
from wrapup_portal.core.genesys import build_genesys_client

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_queueing")]


def writes(sandbox: Any, cid: str, pid: str) -> int:
    return sandbox.stats()["writes"].get(f"{cid}/{pid}", 0)


def api_calls_for(sandbox: Any, cid: str) -> int:
    return sum(1 for r in sandbox.requests() if cid in r["path"])


def lead_job(legs: Any, lead: Any, count: int, state: str = "acw") -> tuple[BulkJob, list[tuple[str, str]]]:
    made = [legs(state=state) for _ in range(count)]
    code = legs.queue["codeIds"][0]
    requester = Requester.person(lead)
    preview = bulk_preview(wanted=[Wanted(c, p, code) for c, p in made], requester=requester)
    assert len(preview.ok_rows) == count, [r.message for r in preview.rows]
    return bulk_job_create(preview=preview, requester=requester, source=Source.BULK, feed=False), made


def job_rows(job: BulkJob) -> list[Assignment]:
    return list(job.assignments.order_by("pk"))


def test_a_grant_revoked_mid_job_stops_the_remaining_writes(legs: Any, lead: Any, admin_user: Any, grant: Any) -> None:
    grant(lead, [legs.queue["id"]])
    job, made = lead_job(legs, lead, 3)
    first, *rest = job_rows(job)
    assert engine.assignment_execute(assignment_id=first.pk).state == State.APPLIED

    queue_grants_set(lead=lead, group_ids=set(), by=admin_user)  # the admin takes the queue away
    calls_before = [api_calls_for(legs.sandbox, a.conversation_id) for a in rest]
    done = [engine.assignment_execute(assignment_id=a.pk) for a in rest]

    assert [a.state for a in done] == [State.FAILED, State.FAILED]
    assert all("may no longer act on queue" in a.last_message for a in done)
    assert [writes(legs.sandbox, c, p) for c, p in made] == [1, 0, 0]
    assert [api_calls_for(legs.sandbox, a.conversation_id) for a in rest] == calls_before  # not even a read
    for a in done:
        failed = AuditEvent.objects.get(target_kind="assignment", target_id=str(a.pk), action=Action.ASSIGNMENT_FAILED)
        assert "lead may no longer act on queue" in failed.reason and failed.actor_kind == "system"
    assert engine.assignment_execute(assignment_id=rest[0].pk).state == State.FAILED  # a second delivery: nothing more
    assert AuditEvent.objects.filter(target_id=str(rest[0].pk), action=Action.ASSIGNMENT_FAILED).count() == 1


def test_the_grant_is_checked_again_under_the_lock_just_before_the_write(legs: Any, lead: Any, admin_user: Any,
                                                                          grant: Any) -> None:  # fmt: skip
    grant(lead, [legs.queue["id"]])
    job, [(cid, pid)] = lead_job(legs, lead, 1)
    [assignment] = job_rows(job)
    queue_grants_set(lead=lead, group_ids=set(), by=admin_user)  # revoked after the first check, before the claim

    result = engine._write(assignment, build_genesys_client())

    assert result.state == State.FAILED and "may no longer act" in result.last_message
    assert writes(legs.sandbox, cid, pid) == 0
    assert not AuditEvent.objects.filter(target_id=str(assignment.pk), action=Action.ASSIGNMENT_SENDING).exists()


def test_a_waiting_leg_is_not_written_once_its_requester_is_deactivated(legs: Any, lead: Any, grant: Any) -> None:
    grant(lead, [legs.queue["id"]])
    job, [(cid, pid)] = lead_job(legs, lead, 1, state="connected")
    [assignment] = job_rows(job)
    assert engine.assignment_execute(assignment_id=assignment.pk).state == State.WAITING_FOR_ACW

    lead.is_active = False
    lead.save()
    legs.sandbox.advance(cid, participantId=pid, to="acw")
    Assignment.objects.filter(pk=assignment.pk).update(next_attempt_at=assignment.created_at)

    assert engine.assignment_execute(assignment_id=assignment.pk).state == State.FAILED
    assert writes(legs.sandbox, cid, pid) == 0


def test_admins_and_grants_still_held_are_not_affected(legs: Any, lead: Any, admin_user: Any, grant: Any) -> None:
    grant(lead, [legs.queue["id"], legs.other["id"]])
    job, [(cid, pid)] = lead_job(legs, lead, 1)
    group_ids = set(lead.queue_grants.filter(code_group__queue_id=legs.queue["id"]).values_list("code_group_id", flat=True))
    queue_grants_set(lead=lead, group_ids=group_ids, by=admin_user)  # the other queue goes; this one stays
    admin_job, [(acid, apid)] = lead_job(legs, admin_user, 1)

    assert engine.assignment_execute(assignment_id=job_rows(job)[0].pk).state == State.APPLIED
    assert engine.assignment_execute(assignment_id=job_rows(admin_job)[0].pk).state == State.APPLIED
    assert writes(legs.sandbox, cid, pid) == writes(legs.sandbox, acid, apid) == 1
