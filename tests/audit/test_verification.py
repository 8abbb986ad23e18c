"""verify_audit recomputes the chain; with the triggers dropped, every kind of tampering is named."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import OrmQ, Schedule
from django_q.scheduler import scheduler
from django_q.signals import post_spawn

from wrapup_portal.audit.chain import HASHED_FIELDS, event_hash
from wrapup_portal.audit.models import Action, AuditCheckpoint, AuditEvent
from wrapup_portal.audit.services import Actor, audit_checkpoint_record, audit_record
from wrapup_portal.audit.tasks import audit_chain_checkpoint


def run_verify(capsys) -> tuple[int, str]:
    try:
        call_command("verify_audit")
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, (captured.err or captured.out).splitlines()[0]


def sql(statement: str, *params: object) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.fixture
def chain(db) -> list[AuditEvent]:
    return [audit_record(action=Action.ASSIGNMENT_APPLIED, actor=Actor.system("engine"), reason=f"r{i}") for i in range(6)]


def test_an_intact_chain_exits_0(chain, capsys) -> None:
    code, line = run_verify(capsys)
    assert code == 0
    assert line.startswith("Audit chain intact: 6 events, head #6")


def test_an_empty_log_is_intact(db, capsys) -> None:
    assert run_verify(capsys)[0] == 0


def test_an_altered_event_is_named(chain, triggers_dropped, capsys) -> None:
    sql("UPDATE audit_auditevent SET reason = 'nothing to see' WHERE sequence = 3")
    assert run_verify(capsys) == (1, "Audit chain broken at #3: its content does not match its hash (altered)")


def test_an_altered_event_with_a_recomputed_hash_breaks_the_next_link(chain, triggers_dropped, capsys) -> None:
    event = AuditEvent.objects.get(sequence=4)
    event.reason = "forged"
    sql("UPDATE audit_auditevent SET reason = 'forged', hash = %s WHERE sequence = 4",
        event_hash([getattr(event, f) for f in HASHED_FIELDS]))
    assert run_verify(capsys) == (1, "Audit chain broken at #5: its prev_hash does not match the hash of #4")


def test_a_deleted_event_is_named(chain, triggers_dropped, capsys) -> None:
    sql("DELETE FROM audit_auditevent WHERE sequence = 2")
    assert run_verify(capsys) == (1, "Audit chain broken at #2: missing (the next event present is #3)")


def test_reordered_events_are_named(chain, triggers_dropped, capsys) -> None:
    # Swap the contents of #3 and #4 (keeping each row's own hash with its content).
    sql("UPDATE audit_auditevent SET sequence = 1000 WHERE sequence = 3")
    sql("UPDATE audit_auditevent SET sequence = 3 WHERE sequence = 4")
    sql("UPDATE audit_auditevent SET sequence = 4 WHERE sequence = 1000")
    code, line = run_verify(capsys)
    assert code == 1 and line.startswith("Audit chain broken at #3:")


def test_removing_the_newest_events_is_caught_by_the_checkpoint(chain, triggers_dropped, capsys) -> None:
    audit_checkpoint_record()  # verifies #1..#6, then writes #7 (the checkpoint event)
    sql("DELETE FROM audit_auditevent WHERE sequence >= 6")
    sql("UPDATE audit_auditchainhead SET sequence = 5, hash = %s", chain[4].hash)
    code, line = run_verify(capsys)
    assert code == 1
    assert line.startswith("Audit chain broken at #6: missing: a signed checkpoint records events up to #6")


def test_removing_the_newest_events_is_caught_by_the_chain_head(chain, triggers_dropped, capsys) -> None:
    sql("DELETE FROM audit_auditevent WHERE sequence = 6")
    code, line = run_verify(capsys)
    assert (code, line.split(":")[0]) == (1, "Audit chain broken at #6")


def test_a_forged_checkpoint_is_named(chain, triggers_dropped, capsys) -> None:
    audit_checkpoint_record()
    sql("UPDATE audit_auditcheckpoint SET events_checked = 1")
    pk = AuditCheckpoint.objects.get().pk
    assert run_verify(capsys) == (1, f"Audit chain broken at #6: checkpoint {pk} for this event has an invalid signature")


def test_the_task_records_a_signed_checkpoint_and_one_event(chain) -> None:
    assert audit_chain_checkpoint() is True
    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.sequence, checkpoint.hash, checkpoint.events_checked) == (6, chain[-1].hash, 6)
    events = list(AuditEvent.objects.filter(action=Action.CHAIN_CHECKPOINT))
    assert len(events) == 1 and events[0].extra == {"sequence": 6, "hash": chain[-1].hash}


def test_the_task_on_a_broken_chain_records_one_chain_broken_event_and_no_checkpoint(chain, triggers_dropped) -> None:
    sql("UPDATE audit_auditevent SET reason = 'x' WHERE sequence = 2")
    assert audit_chain_checkpoint() is False
    assert not AuditCheckpoint.objects.exists()
    broken = AuditEvent.objects.get(action=Action.CHAIN_BROKEN)
    assert (broken.target_id, broken.outcome) == ("2", "broken")


def test_the_checkpoint_schedule_is_registered_once(db) -> None:
    from django_q.models import Schedule

    assert Schedule.objects.filter(name="audit.chain_checkpoint", func="wrapup_portal.audit.tasks.audit_chain_checkpoint").count() == 1


def test_a_starting_cluster_worker_brings_the_hourly_verification_forward(chain, monkeypatch) -> None:
    # The sentinel's scheduler closes stale connections first; in a test that would close the
    # test's own (transactional) connection on PostgreSQL.
    monkeypatch.setattr("django_q.scheduler.close_old_django_connections", lambda: None)
    def queued_checkpoints() -> int:
        return sum(q.task["func"] == "wrapup_portal.audit.tasks.audit_chain_checkpoint" for q in OrmQ.objects.all())

    hourly = Schedule.objects.get(name="audit.chain_checkpoint")
    Schedule.objects.filter(pk=hourly.pk).update(next_run=timezone.now() + timedelta(minutes=50))
    scheduler(broker=get_broker())
    assert queued_checkpoints() == 0  # not due yet: without a start, the header waits up to an hour

    # What each worker of `qcluster` sends as it starts (django_q.worker.worker).
    post_spawn.send(sender="django_q", proc_name="Process-1")
    post_spawn.send(sender="django_q", proc_name="Process-2")
    scheduler(broker=get_broker())  # the sentinel's next tick
    assert queued_checkpoints() == 1  # once, for both workers
    hourly.refresh_from_db()
    assert hourly.next_run > timezone.now() + timedelta(minutes=55)  # then hourly again from now
