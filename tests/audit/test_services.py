"""audit_record: one event per call, chained, in the caller's transaction, never forked."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest
from django.db import OperationalError, connection, transaction
from django.test import RequestFactory

from wrapup_portal.audit.chain import GENESIS_HASH, HASHED_FIELDS, event_hash
from wrapup_portal.audit.models import Action, ActorKind, AuditChainHead, AuditEvent
from wrapup_portal.audit.services import Actor, audit_record
from wrapup_portal.audit.verification import audit_chain_verify


@pytest.mark.django_db
def test_events_form_a_gap_free_chain_from_the_genesis_hash() -> None:
    events = [audit_record(action=Action.SYNC_STARTED, actor=Actor.system("sync")) for _ in range(3)]
    assert [e.sequence for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS_HASH
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    head = AuditChainHead.objects.get(pk=1)
    assert (head.sequence, head.hash) == (3, events[-1].hash)
    stored = AuditEvent.objects.get(sequence=2)
    assert event_hash([getattr(stored, f) for f in HASHED_FIELDS]) == stored.hash


@pytest.mark.django_db
def test_the_request_gives_source_ip_user_agent_and_request_id(make_user) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="Firefox/1")
    request.request_id = "req-12345678"
    user = make_user("lena")
    event = audit_record(
        action=Action.ASSIGNMENT_REQUESTED, actor=Actor.for_user(user), request=request,
        conversation_id="c-1", participant_id="p-1", queue_id="q-1",
        code_before_id="", code_after_id="code-9", code_after_name="Sale", reason="customer asked",
        correlation_id="corr-1", extra={"bulk": False},
    )
    assert (event.actor_kind, event.actor_id, event.actor_username) == (ActorKind.USER, str(user.pk), "lena")
    assert (event.source_ip, event.user_agent, event.request_id) == ("10.1.2.3", "Firefox/1", "req-12345678")
    assert (event.code_after_name, event.correlation_id, event.extra) == ("Sale", "corr-1", {"bulk": False})


@pytest.mark.django_db
def test_the_username_is_kept_as_it_was(make_user) -> None:
    user = make_user("old-name")
    event = audit_record(action=Action.SIGN_IN, actor=Actor.for_user(user))
    user.username = "new-name"
    user.save()
    event.refresh_from_db()
    assert event.actor_username == "old-name"


@pytest.mark.django_db
def test_an_unknown_action_is_refused_and_writes_nothing() -> None:
    with pytest.raises(ValueError):
        audit_record(action="made.up", actor=Actor.system("x"))
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_a_rolled_back_caller_leaves_no_event_and_no_gap() -> None:
    audit_record(action=Action.RULE_CREATED, actor=Actor.rule(1, "VIP"))
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action=Action.RULE_CHANGED, actor=Actor.rule(1, "VIP"))
        raise RuntimeError("the caller's own write failed")
    event = audit_record(action=Action.RULE_DELETED, actor=Actor.rule(1, "VIP"))
    assert event.sequence == 2
    assert audit_chain_verify().ok


@pytest.mark.django_db
def test_times_never_go_backwards_along_the_chain(monkeypatch) -> None:
    first = audit_record(action=Action.SIGN_IN, actor=Actor.cli("root"))
    # A clock stepped back: the next event keeps the chain's time order.
    clock = SimpleNamespace(now=lambda: first.occurred_at.replace(year=2000))
    monkeypatch.setattr("wrapup_portal.audit.services.timezone", clock)
    second = audit_record(action=Action.SIGN_OUT, actor=Actor.cli("root"))
    assert second.occurred_at == first.occurred_at


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain() -> None:
    writers, per_writer, errors = 8, 15, []
    start = threading.Barrier(writers)

    def record(n: int, i: int) -> None:
        for _ in range(200):
            try:
                audit_record(action=Action.ASSIGNMENT_APPLIED, actor=Actor.system(f"worker-{n}"), extra={"i": i})
                return
            except OperationalError as exc:
                # The test database is SQLite in memory with a shared cache, where a busy
                # writer answers "table is locked" at once instead of waiting; the file
                # database of a real deployment waits (busy_timeout). Wait here instead.
                if "locked" not in str(exc):
                    raise
                time.sleep(0.002)
        raise AssertionError("never got the write lock")

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(per_writer):
                record(n, i)
        except Exception as exc:  # reported below: a thread's exception would vanish
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    events = list(AuditEvent.objects.order_by("sequence").values_list("sequence", "prev_hash", "hash"))
    assert [seq for seq, _, _ in events] == list(range(1, writers * per_writer + 1))
    assert len({prev for _, prev, _ in events}) == len(events)  # no two events share a predecessor
    assert audit_chain_verify().ok


def test_the_fast_canonical_form_is_exactly_canonical_json() -> None:
    import random
    from datetime import UTC, datetime

    from wrapup_portal.audit.chain import canonical_json, canonical_time, event_hash
    import hashlib

    rng = random.Random(1)
    for _ in range(200):
        values = [rng.choice(["", "a\"b\\c", "ü→✓", "line\nbreak\t", "\x00\x1f"]) + str(rng.random()) for _ in HASHED_FIELDS]
        values[0] = rng.randrange(10**12)
        values[1] = datetime(2026, 1, 2, 3, 4, 5, rng.choice([0, 7, 999999]), tzinfo=UTC)
        values[HASHED_FIELDS.index("extra")] = {"b": [1, 2.5, None, True], "a": {"z": "ü", "y": ""}, "n": rng.random()}
        record = dict(zip(HASHED_FIELDS, values))
        record["occurred_at"] = canonical_time(record["occurred_at"])
        assert event_hash(values) == hashlib.sha256(canonical_json(record).encode()).hexdigest()
    # SQLite's raw text (no microseconds when zero) reads the same as the datetime.
    assert canonical_time("2026-01-02 03:04:05") == canonical_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert canonical_time("2026-01-02 03:04:05.000007") == "2026-01-02T03:04:05.000007Z"
