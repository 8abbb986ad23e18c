"""Database triggers that make the audit tables append-only, for SQLite and PostgreSQL.

Used by the migrations that create them, and by tests that must drop them to prove that
`verify_audit` catches what the triggers would otherwise have prevented.
INSERT is left alone. TRUNCATE is not a row operation: on PostgreSQL a statement-level
trigger refuses it too (migration 0005); SQLite has no TRUNCATE.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

APPEND_ONLY_TABLES = ("audit_auditevent", "audit_auditcheckpoint")
REFUSED = "is append-only"  # part of the error message, for tests


class UnsupportedDatabase(Exception):
    """The audit log's append-only triggers exist for SQLite and PostgreSQL only."""


def _sqlite_create(table: str) -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} {REFUSED}: {op} refused'); END"
        for op in ("UPDATE", "DELETE")
    ]


def _postgres_create(table: str) -> list[str]:
    # TRUNCATE of an empty table loses nothing, and is what Django's flush does after a
    # transactional test (once tests/audit/fixtures.py has emptied the audit tables).
    return [
        f"""CREATE OR REPLACE FUNCTION {table}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' AND NOT EXISTS (SELECT 1 FROM {table}) THEN RETURN NULL; END IF;
            RAISE EXCEPTION '{table} {REFUSED}: % refused', TG_OP;
        END $$""",
        f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
        f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_refuse()",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse()",
    ]


def _statements(connection: BaseDatabaseWrapper, *, create: bool) -> list[str]:
    statements: list[str] = []
    for table in APPEND_ONLY_TABLES:
        if connection.vendor == "sqlite":
            statements += _sqlite_create(table) if create else [
                f"DROP TRIGGER IF EXISTS {table}_no_{op}" for op in ("update", "delete")
            ]
        elif connection.vendor == "postgresql":
            statements += _postgres_create(table) if create else [
                f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}",
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
                f"DROP FUNCTION IF EXISTS {table}_refuse()",
            ]
        else:
            raise UnsupportedDatabase(f"no append-only triggers for {connection.vendor}")
    return statements


def create_triggers(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection, create=True):
            cursor.execute(statement)


def drop_triggers(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for statement in _statements(connection, create=False):
            cursor.execute(statement)


def drop_truncate_triggers(connection: BaseDatabaseWrapper) -> None:
    """Undo migration 0005 only: PostgreSQL's TRUNCATE triggers (the row triggers stay)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in APPEND_ONLY_TABLES:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
