"""The assignment life cycle against the sandbox over HTTP: one write at most, nothing lost."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from integrations.genesys import WRAP_UP_TIMEOUT, GenesysError
from wrapup_portal.assignments import engine, services
from wrapup_portal.assignments.models import Assignment, State
from wrapup_portal.assignments.services import Requester, assignment_request
from wrapup_portal.audit.models import Action, AuditEvent
from wrapup_portal.core.genesys import build_genesys_client

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_queueing")]


def writes(sandbox: Any, cid: str, pid: str) -> int:
    return sandbox.stats()["writes"].get(f"{cid}/{pid}", 0)


def carried(sandbox: Any, cid: str, pid: str) -> str | None:
    wrapup = sandbox.api("GET", f"/api/v2/conversations/{cid}/participants/{pid}/wrapup").json()
    return (wrapup or {}).get("code")


def run(assignment: Assignment, **kwargs: Any) -> Assignment:
    result = engine.assignment_execute(assignment_id=assignment.pk, **kwargs)
    assert result is not None
    return result


def events(assignment: Assignment) -> list[str]:
    return list(AuditEvent.objects.filter(target_kind="assignment", target_id=str(assignment.pk))
                .order_by("sequence").values_list("action", flat=True))  # fmt: skip


def test_a_leg_in_acw_is_written_once_and_audited(legs: Any, admin_user: Any) -> None:
    cid, pid = legs()
    code = legs.queue["codeIds"][0]

    assignment = assignment_request(conversation_id=cid, participant_id=pid, code=code, requester=Requester.person(admin_user))
    done = run(assignment)
    again = run(assignment)  # django-q2 may deliver the task twice

    assert done.state == again.state == State.APPLIED
    assert writes(legs.sandbox, cid, pid) == 1
    assert carried(legs.sandbox, cid, pid) == code
    assert events(assignment) == [Action.ASSIGNMENT_REQUESTED, Action.ASSIGNMENT_SENDING, Action.ASSIGNMENT_APPLIED]


def test_the_first_attempt_decides_from_the_validating_read(legs: Any, admin_user: Any) -> None:
    cid, pid = legs()
    assignment = assignment_request(conversation_id=cid, participant_id=pid, code=legs.queue["codeIds"][0],
                                    requester=Requester.person(admin_user))  # fmt: skip
    before = len([r for r in legs.sandbox.requests() if r["path"].startswith("/api/")])

    run(assignment)

    calls = [r for r in legs.sandbox.requests() if r["path"].startswith("/api/")][before:]
    assert [c["method"] for c in calls] == ["PATCH"]  # no read before the write


def test_a_connected_leg_waits_then_is_written_when_acw_starts(legs: Any, admin_user: Any) -> None:
    cid, pid = legs(state="connected")
    code = legs.queue["codeIds"][1]
    assignment = assignment_request(conversation_id=cid, participant_id=pid, code=code, requester=Requester.person(admin_user))

    waiting = run(assignment)
    assert waiting.state == State.WAITING_FOR_ACW and writes(legs.sandbox, cid, pid) == 0
    assert run(assignment).state == State.WAITING_FOR_ACW  # not due yet: nothing happens

    legs.sandbox.advance(cid, participantId=pid, to="acw")
    Assignment.objects.filter(pk=assignment.pk).update(next_attempt_at=timezone.now())
    done = run(assignment)

    assert done.state == State.APPLIED
    assert writes(legs.sandbox, cid, pid) == 1
    assert Action.ASSIGNMENT_WAITING in events(assignment)


def test_a_leg_whose_acw_is_over_expires_with_the_code_genesys_kept(legs: Any, admin_user: Any) -> None:
    cid, pid = legs(state="ended", wrapupCode=WRAP_UP_TIMEOUT)
    assignment = assignment_request(conversation_id=cid, participant_id=pid, code=legs.queue["codeIds"][0],
                                    requester=Requester.person(admin_user))  # fmt: skip

    done = run(assignment)

    assert done.state == State.EXPIRED
    assert done.final_code == WRAP_UP_TIMEOUT
    assert writes(legs.sandbox, cid, pid) == 0


def test_a_leg_already_carrying_the_code_is_applied_without_a_write(legs: Any, admin_user: Any) -> None:
    code = legs.queue["codeIds"][0]
    cid, pid = legs(state="wrapped", wrapupCode=code)
    assignment = assignment_request(conversation_id=cid, participant_id=pid, code=code, requester=Requester.person(admin_user))

    assert run(assignment).state == State.APPLIED
    assert writes(legs.sandbox, cid, pid) == 0


def test_an_answer_lost_after_the_write_is_read_back_not_resent(legs: Any, admin_user: Any) -> None:
    cid, pid = legs()
    code = legs.queue["codeIds"][0]
    assignment = assignment_request(conversation_id=cid, participant_id=pid, code=code, requester=Requester.person(admin_user))
    legs.sandbox.configure(lost_answer_rate=1.0)  # the PATCH is applied, its answer never comes back
    client = build_genesys_client(share_across_processes=False)
    calls: list[str] = []
    original = client.set_participant_wrapup

    def write_then_lose(*args: Any, **kwargs: Any) -> None:
        calls.append("PATCH")
        try:
            original(*args, **kwargs)
        finally:
            legs.sandbox.configure(lost_answer_rate=0.0)  # so the read-back is answered

    client.set_participant_wrapup = write_then_lose  # type: ignore[method-assign]

    done = run(assignment, client=client)

    assert done.state == State.APPLIED
    assert calls == ["PATCH"] and writes(legs.sandbox, cid, pid) == 1
    assert legs.sandbox.stats()["answers_lost"] == 1


def test_a_worker_that_died_while_sending_is_read_back_after_its_lease(legs: Any, admin_user: Any) -> None:
    cid, pid = legs()
    code = legs.queue["codeIds"][0]
    assignment = assignment_request(conversation_id=cid, participant_id=pid, code=code, requester=Requester.person(admin_user))
    # The worker claimed it and died before its PATCH left: "sending", lease running.
    Assignment.objects.filter(pk=assignment.pk).update(state=State.SENDING, attempts=1,
                                                       lease_until=timezone.now() + timedelta(minutes=5))  # fmt: skip
    assert run(assignment).state == State.SENDING  # within the lease: someone may still be sending
    assert engine.assignments_due() == []

    Assignment.objects.filter(pk=assignment.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert engine.assignments_due() == [assignment.pk]
    back = run(assignment)  # read back: not applied, still in ACW -> requested again, with backoff
    assert back.state == State.REQUESTED and writes(legs.sandbox, cid, pid) == 0

    Assignment.objects.filter(pk=assignment.pk).update(next_attempt_at=timezone.now())
    assert run(assignment).state == State.APPLIED
    assert writes(legs.sandbox, cid, pid) == 1
    # Every state change is an event: requested, rescheduled (read back, not applied), sent, applied.
    assert events(assignment) == [Action.ASSIGNMENT_REQUESTED, Action.ASSIGNMENT_RESCHEDULED,
                                  Action.ASSIGNMENT_SENDING, Action.ASSIGNMENT_APPLIED]  # fmt: skip


def test_a_second_read_back_of_a_lost_write_cannot_undo_a_newer_claim(legs: Any, admin_user: Any) -> None:
    """The sweeper (or an at-least-once broker) may run a lost "sending" row twice at once."""
    cid, pid = legs()
    code = legs.queue["codeIds"][0]
    assignment = assignment_request(conversation_id=cid, participant_id=pid, code=code, requester=Requester.person(admin_user))
    Assignment.objects.filter(pk=assignment.pk).update(state=State.SENDING, attempts=1,
                                                       lease_until=timezone.now() - timedelta(seconds=1))  # fmt: skip
    client = build_genesys_client(share_across_processes=False)
    read, write = client.get_conversation, client.set_participant_wrapup
    meanwhile: list[Assignment | None] = []

    def slow_read(conversation_id: str) -> Any:
        seen = read(conversation_id)  # in ACW, no code; while this answer is on its way back…
        if not meanwhile:
            engine.assignment_execute(assignment_id=assignment.pk)  # …the other copy reads back too,
            Assignment.objects.filter(pk=assignment.pk, state=State.REQUESTED).update(next_attempt_at=timezone.now())
            meanwhile.append(engine._claim_for_sending(assignment))  # …and a worker claims it to write, as _write does
        return seen

    client.get_conversation = slow_read  # type: ignore[method-assign]
    engine.assignment_execute(assignment_id=assignment.pk, client=client)
    Assignment.objects.filter(pk=assignment.pk, state=State.REQUESTED).update(next_attempt_at=timezone.now())
    run(assignment)  # the next due run: reads the leg, writes
    if meanwhile[0] is not None:
        with contextlib.suppress(GenesysError):  # the claimed write goes out late (and may be refused)
            write(cid, pid, code_id=code)

    patches = [r for r in legs.sandbox.requests() if r["method"] == "PATCH" and r["path"].endswith(f"/participants/{pid}")]
    assert meanwhile == [None]  # nobody could claim the row while its outcome was being read back
    assert len(patches) == 1, patches
    assert Assignment.objects.get(pk=assignment.pk).state == State.APPLIED
    assert writes(legs.sandbox, cid, pid) == 1


def test_a_refusal_is_classified_from_the_state_read_back(legs: Any, admin_user: Any) -> None:
    cid, pid = legs()
    assignment = assignment_request(conversation_id=cid, participant_id=pid, code=legs.queue["codeIds"][0],
                                    requester=Requester.person(admin_user))  # fmt: skip
    legs.sandbox.configure(client_credentials_may_write=False)  # Genesys refuses the app's token on agents' legs

    done = run(assignment)

    assert done.state == State.FAILED
    assert "refused the write" in done.last_message and done.last_status == 403
    assert writes(legs.sandbox, cid, pid) == 0
    assert events(assignment)[-1] == Action.ASSIGNMENT_FAILED


def test_a_refusal_because_acw_ended_meanwhile_is_an_expiry(legs: Any, admin_user: Any) -> None:
    cid, pid = legs()
    code = legs.queue["codeIds"][0]
    assignment = assignment_request(conversation_id=cid, participant_id=pid, code=code, requester=Requester.person(admin_user))
    legs.sandbox.advance(cid, participantId=pid, to="wrapped", wrapupCode=legs.queue["codeIds"][1])  # the agent chose

    done = run(assignment)  # decided from the (stale) validating read: PATCH, refused, read back

    assert done.state == State.EXPIRED
    assert done.final_code == legs.queue["codeIds"][1]


def test_a_new_request_supersedes_the_live_one_explicitly(legs: Any, admin_user: Any) -> None:
    cid, pid = legs(state="connected")
    requester = Requester.person(admin_user)
    first = assignment_request(conversation_id=cid, participant_id=pid, code=legs.queue["codeIds"][0], requester=requester)
    second = assignment_request(conversation_id=cid, participant_id=pid, code=legs.queue["codeIds"][1], requester=requester)

    first.refresh_from_db()
    assert first.state == State.CANCELLED and first.superseded_by_id == second.pk
    assert events(first)[-1] == Action.ASSIGNMENT_SUPERSEDED


@pytest.mark.parametrize("case", ["unknown conversation", "unknown participant", "customer leg", "code not offered",
                                  "unknown code", "queue not granted", "notes too long", "several legs"])  # fmt: skip
def test_bad_requests_say_why_and_change_nothing(legs: Any, lead: Any, grant: Any, case: str) -> None:
    sandbox = legs.sandbox
    cid, pid = legs(agents=2) if case == "several legs" else legs()
    queue = legs.queue
    grant(lead, [] if case == "queue not granted" else [queue["id"]])
    others = {c for q in sandbox.org()["queues"] for c in q["codeIds"]} - set(queue["codeIds"])
    conversation = sandbox.api("GET", f"/api/v2/conversations/{cid}").json()
    customer = next(p["id"] for p in conversation["participants"] if p["purpose"] == "customer")
    args: dict[str, Any] = {"conversation_id": cid, "participant_id": pid, "code": queue["codeIds"][0], "notes": ""}
    expected = {
        "unknown conversation": ({"conversation_id": "0ae82ce3-5c8e-4865-82d4-caa2a4e6a1de"}, "knows no conversation"),
        "unknown participant": ({"participant_id": "0ae82ce3-5c8e-4865-82d4-caa2a4e6a1de"}, "has no participant"),
        "customer leg": ({"participant_id": customer}, "is not an agent leg"),
        "code not offered": ({"code": sorted(others)[0]}, "is not offered to this leg"),
        "unknown code": ({"code": "No Such Code"}, "No wrap-up code has the id or exact name"),
        "queue not granted": ({}, "which is not granted to you"),
        "notes too long": ({"notes": "x" * 2001}, "Notes may be at most 2000 characters"),
        "several legs": ({"participant_id": None}, "agent legs; say which"),
    }[case]
    args.update(expected[0])
    events_before, requests_before = AuditEvent.objects.count(), sandbox.stats()["requests"]

    with pytest.raises(ValidationError) as refused:
        assignment_request(requester=Requester.person(lead), **args)

    assert expected[1] in refused.value.messages[0]
    assert not Assignment.objects.exists()
    assert AuditEvent.objects.count() == events_before
    assert sum(sandbox.stats()["writes"].values()) == 0
    assert sandbox.stats()["requests"] >= requests_before  # reads only; no write happened


def test_the_agent_write_path_says_plainly_it_is_not_built(legs: Any, admin_user: Any, settings: Any) -> None:
    settings.GENESYS_WRITE_PATH = "agent"
    cid, pid = legs()
    with pytest.raises(ValidationError, match="not available yet"):
        assignment_request(conversation_id=cid, participant_id=pid, code=legs.queue["codeIds"][0],
                           requester=Requester.person(admin_user))  # fmt: skip
    assert not Assignment.objects.exists()


def test_faults_lose_nothing_and_write_nothing_twice(legs: Any, admin_user: Any) -> None:
    sandbox = legs.sandbox
    made = [legs() for _ in range(30)]
    requester = Requester.person(admin_user)
    assignments = [assignment_request(conversation_id=c, participant_id=p, code=legs.queue["codeIds"][0], requester=requester)
                   for c, p in made]  # fmt: skip
    sandbox.configure(error_rate=0.2, lost_answer_rate=0.1)

    for _ in range(40):  # the sweeper's loop, compressed: run whatever is due until nothing is live
        Assignment.objects.filter(state__in=(State.REQUESTED, State.WAITING_FOR_ACW)).update(next_attempt_at=timezone.now())
        Assignment.objects.filter(state=State.SENDING).update(lease_until=timezone.now())
        for pk in engine.assignments_due():
            engine.assignment_execute(assignment_id=pk)
        if not Assignment.objects.filter(state__in=(State.REQUESTED, State.WAITING_FOR_ACW, State.SENDING)).exists():
            break
    sandbox.configure(error_rate=0.0, lost_answer_rate=0.0)

    states = {a.pk: Assignment.objects.get(pk=a.pk).state for a in assignments}
    assert set(states.values()) == {State.APPLIED}, states
    assert all(writes(sandbox, c, p) == 1 for c, p in made)
    assert all(carried(sandbox, c, p) == legs.queue["codeIds"][0] for c, p in made)


def test_a_bulk_preview_refuses_a_second_row_for_the_same_leg(legs: Any, admin_user: Any) -> None:
    cid, pid = legs()
    code = legs.queue["codeIds"][0]
    wanted = [services.Wanted(cid, pid, code), services.Wanted(cid, "", legs.queue["codeIds"][1])]

    preview = services.bulk_preview(wanted=wanted, requester=Requester.person(admin_user), lines=[2, 3])

    assert [r.verdict for r in preview.rows] == [services.Verdict.WILL_APPLY, services.Verdict.INVALID]
    assert preview.rows[1].message == services.SAME_LEG.format(line=2)
    assert preview.reads == 1  # one batched analytics read for the whole file


def test_a_bulk_job_is_fed_to_the_queue_a_few_chunks_at_a_time(legs: Any, admin_user: Any, monkeypatch: Any,
                                                                django_capture_on_commit_callbacks: Any) -> None:  # fmt: skip
    """django-q2 runs tasks in order: a big job must not stand in front of the heartbeat for minutes."""
    from django_q.models import OrmQ

    from wrapup_portal.assignments import tasks

    monkeypatch.undo()  # this test queues for real (into the ORM broker; no cluster runs them)
    made = [legs() for _ in range(3)]
    requester = Requester.person(admin_user)
    wanted = [services.Wanted(c, p, legs.queue["codeIds"][0]) for c, p in made]
    preview = services.bulk_preview(wanted=wanted, requester=requester)
    with django_capture_on_commit_callbacks(execute=True):
        job = services.bulk_job_create(preview=preview, requester=requester, source="bulk")
    ids = [a.pk for a in job.assignments.all()]
    # 3 rows here; with more, only FEEDERS chunks of CHUNK would be queued. Scale the same rule down:
    assert OrmQ.objects.count() == 1  # one chunk holds all three
    reserved = Assignment.objects.filter(pk__in=ids, next_attempt_at__gt=timezone.now())
    assert reserved.count() == 3  # kept for that task: no other feeder takes them
    assert services.assignment_feed() == 0

    tasks.assignments_execute_task(ids, True)  # the queued task, run here: reserved rows run at once
    assert set(Assignment.objects.filter(pk__in=ids).values_list("state", flat=True)) == {State.APPLIED}


def test_feeding_queues_at_most_feeders_chunks_and_each_chunk_feeds_the_next(db: Any, monkeypatch: Any) -> None:
    from django_q.models import OrmQ

    from wrapup_portal.assignments import tasks
    from wrapup_portal.assignments.models import Source as AssignmentSource

    monkeypatch.undo()  # feeding for real (into the ORM broker; no cluster runs the tasks)
    now = timezone.now()
    Assignment.objects.bulk_create([
        Assignment(conversation_id=f"c{i}", participant_id="p", code_id="x", code_name="x",
                   source=AssignmentSource.BULK, next_attempt_at=now)
        for i in range(services.CHUNK * 5)
    ])  # fmt: skip
    queued = services.assignment_feed()

    assert queued == services.FEEDERS * services.CHUNK
    assert OrmQ.objects.count() == services.FEEDERS
    assert Assignment.objects.filter(next_attempt_at__lte=timezone.now()).count() == services.CHUNK * 3
    ran: list[int] = []
    monkeypatch.setattr(tasks, "assignment_execute", lambda assignment_id, reserved: ran.append(assignment_id))
    first = list(Assignment.objects.filter(next_attempt_at__gt=timezone.now()).order_by("pk").values_list("pk", flat=True))
    tasks.assignments_execute_task(first[:services.CHUNK], True)
    assert ran == first[:services.CHUNK]
    assert OrmQ.objects.count() == services.FEEDERS + 1  # the chain goes on: one more chunk, not the whole rest


def test_a_jobs_last_chunk_feeds_a_retry_falling_due_in_seconds_not_at_the_next_sweep(db: Any, monkeypatch: Any) -> None:
    from django_q.models import OrmQ

    from wrapup_portal.assignments.models import Source as AssignmentSource

    monkeypatch.undo()  # feeding for real (into the ORM broker; no cluster runs the tasks)
    now = timezone.now()

    def row(name: str, state: str, due_in: float) -> Assignment:
        return Assignment.objects.create(conversation_id=name, participant_id="p", code_id="x", code_name="x", state=state,
                                         source=AssignmentSource.BULK, next_attempt_at=now + timedelta(seconds=due_in))  # fmt: skip

    waited: list[float] = []
    later = row("later", State.REQUESTED, 60)  # past the follow-up: the sweeper's
    waiting = row("waiting", State.WAITING_FOR_ACW, 10)  # an ACW event or the sweeper brings it back
    assert services.assignment_feed_follow_up(sleep=waited.append) == 0 and waited == [] and OrmQ.objects.count() == 0

    retry = row("retry", State.REQUESTED, 3)  # a write answered 5xx, rescheduled a few seconds ahead
    monkeypatch.setattr(services.timezone, "now", lambda: now + timedelta(seconds=sum(waited)))
    assert services.assignment_feed_follow_up(sleep=waited.append) == 1
    assert 2.5 < waited[0] <= 3 and OrmQ.objects.count() == 1  # slept until it fell due, then fed it alone
    retry.refresh_from_db()
    assert retry.next_attempt_at > now + timedelta(seconds=60)  # reserved for the queued chunk
    assert Assignment.objects.get(pk=later.pk).next_attempt_at == later.next_attempt_at
    assert Assignment.objects.get(pk=waiting.pk).state == State.WAITING_FOR_ACW
