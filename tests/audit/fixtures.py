"""Audit fixtures for the whole suite (register with pytest_plugins = ["tests.audit.fixtures"]).

The audit tables refuse DELETE (that is the point), but a transactional test (`transaction=True`,
`live_server`) ends with Django's flush, which on SQLite is a DELETE per table. So before that
flush, and only in the test database, the audit rows are cleared with the triggers lifted
for the moment, and the triggers are put back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.db import connection, transaction

from wrapup_portal.audit.models import AuditEvent
from wrapup_portal.audit.triggers import APPEND_ONLY_TABLES, create_triggers, drop_triggers


def _transactional(request: pytest.FixtureRequest) -> bool:
    marker = request.node.get_closest_marker("django_db")
    by_marker = bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    return by_marker or bool({"transactional_db", "live_server"} & set(request.fixturenames))


def clear_audit_tables() -> None:
    """Test databases only: empty the append-only tables (triggers lifted, then restored)."""
    with transaction.atomic():
        drop_triggers(connection)
        with connection.cursor() as cursor:
            for table in APPEND_ONLY_TABLES:
                cursor.execute(f"DELETE FROM {table}")
        create_triggers(connection)


@pytest.fixture(autouse=True)
def _audit_tables_cleared_before_flush(request: pytest.FixtureRequest) -> Iterator[None]:
    if not _transactional(request):
        yield
        return
    # Set the database up first, so that its teardown (the flush) runs after ours.
    request.getfixturevalue("_django_db_helper")
    yield
    clear_audit_tables()


@pytest.fixture
def triggers_dropped(db) -> Iterator[None]:
    """Lift the append-only triggers inside this test's transaction (rolled back after)."""
    drop_triggers(connection)
    yield
    create_triggers(connection)


@pytest.fixture
def audit_events() -> Callable[..., list[AuditEvent]]:
    """The events recorded so far, oldest first, optionally of one action."""

    def events(action: str | None = None) -> list[AuditEvent]:
        qs = AuditEvent.objects.order_by("sequence")
        return list(qs.filter(action=action) if action else qs)

    return events
