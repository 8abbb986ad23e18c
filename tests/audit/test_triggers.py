"""The events table is append-only in the database itself, whatever the code above it does."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from wrapup_portal.audit.models import Action, AuditCheckpoint, AuditEvent
from wrapup_portal.audit.services import Actor, audit_record, audit_checkpoint_record
from wrapup_portal.audit.triggers import APPEND_ONLY_TABLES, REFUSED

STATEMENTS = {
    "update": "UPDATE audit_auditevent SET reason = 'rewritten' WHERE sequence = 1",
    "update all": "UPDATE audit_auditevent SET action = 'auth.sign_out'",
    "delete": "DELETE FROM audit_auditevent WHERE sequence = 1",
    "delete all": "DELETE FROM audit_auditevent",
    "checkpoint update": "UPDATE audit_auditcheckpoint SET sequence = 99",
    "checkpoint delete": "DELETE FROM audit_auditcheckpoint",
}


@pytest.mark.django_db
@pytest.mark.parametrize("sql", STATEMENTS.values(), ids=STATEMENTS.keys())
def test_raw_update_and_delete_are_refused(sql: str) -> None:
    audit_record(action=Action.SIGN_IN, actor=Actor.system("x"), reason="original")
    audit_checkpoint_record()
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert AuditEvent.objects.get(sequence=1).reason == "original"
    assert AuditEvent.objects.count() == 2


@pytest.mark.django_db
def test_the_orm_cannot_change_or_delete_an_event_either() -> None:
    event = audit_record(action=Action.SIGN_IN, actor=Actor.system("x"))
    event.reason = "rewritten"
    with pytest.raises(DatabaseError), transaction.atomic():
        event.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get().reason == ""


@pytest.mark.django_db
def test_inserting_stays_allowed() -> None:
    for _ in range(3):
        audit_record(action=Action.SIGN_IN, actor=Actor.system("x"))
    assert AuditEvent.objects.count() == 3


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's; SQLite has no TRUNCATE statement")
@pytest.mark.parametrize("table", APPEND_ONLY_TABLES)
def test_truncate_is_refused_on_postgresql(table: str) -> None:
    audit_record(action=Action.SIGN_IN, actor=Actor.system("x"))
    audit_checkpoint_record()
    # A refused statement aborts a PostgreSQL transaction: the savepoint keeps the test's transaction usable.
    with pytest.raises(DatabaseError, match=REFUSED), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {table} CASCADE")
    assert (AuditEvent.objects.count(), AuditCheckpoint.objects.count()) == (2, 1)


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="TRUNCATE is PostgreSQL's; SQLite has no TRUNCATE statement")
def test_truncate_of_empty_audit_tables_is_let_through_for_the_test_flush() -> None:
    # Nothing to lose; it is what Django's flush does once tests/audit/fixtures.py emptied them.
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(APPEND_ONLY_TABLES)}")
    assert not AuditEvent.objects.exists()
