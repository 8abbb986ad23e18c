"""Fixtures for the interactions pages: a synced catalog and a team lead granted some queues."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User

from integrations.genesys_sandbox import SandboxServer
from tests.fixtures_sandbox import SANDBOX_ORG, SANDBOX_SEED

from wrapup_portal.accounts.models import QueueGrant
from wrapup_portal.catalog.models import CodeGroup, SyncRun
from wrapup_portal.catalog.services import sync_run_execute, sync_run_request
from wrapup_portal.core.genesys import build_genesys_client

STAMP = "%Y-%m-%dT%H:%M:%SZ"


@pytest.fixture(scope="package")
def sandbox_server() -> Iterator[SandboxServer]:
    """A sandbox of this package's own: the live board compares Genesys times with the
    portal's clock, so the simulated clock must not carry hours that other packages'
    tests moved it on by."""
    server = SandboxServer(host="127.0.0.1", port=0, seed=SANDBOX_SEED, live=False, org=SANDBOX_ORG)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def catalog(db: None, genesys: Any) -> Any:
    """The sandbox's queues and codes copied into the portal's catalog."""
    request = sync_run_request(trigger=SyncRun.Trigger.CLI, by=None)
    run = sync_run_execute(run_id=request.run.pk, client=build_genesys_client())
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return genesys


@pytest.fixture
def grant() -> Callable[[User, list[str]], None]:
    def give(user: User, queue_ids: list[str]) -> None:
        for group in CodeGroup.objects.filter(queue_id__in=queue_ids):
            QueueGrant.objects.create(user=user, code_group=group)

    return give


def sandbox_now(sandbox: Any) -> datetime:
    return datetime.fromisoformat(sandbox.clock()["now"].replace("Z", "+00:00"))


def yesterday(sandbox: Any) -> tuple[datetime, datetime]:
    """Yesterday in UTC, as whole-day bounds (the analytics interval rule is by UTC day)."""
    end = sandbox_now(sandbox).replace(hour=0, minute=0, second=0, microsecond=0)
    return end - timedelta(days=1), end


def ground_truth(sandbox: Any, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Agent legs of ended conversations started in [start, end), from the sandbox's model."""
    response = sandbox.http.get(f"{sandbox.url}/__sandbox/legs",
                                params={"start": start.strftime(STAMP), "end": end.strftime(STAMP)}, timeout=30)
    response.raise_for_status()
    return [leg for leg in response.json() if leg["ended"]]


def api_calls(sandbox: Any) -> int:
    return len([r for r in sandbox.requests() if r["path"].startswith("/api/")])
