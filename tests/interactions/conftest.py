"""Fixtures for the interactions pages (``catalog`` and ``grant`` live in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from integrations.genesys_sandbox import SandboxServer
from tests.fixtures_sandbox import served_sandbox

STAMP = "%Y-%m-%dT%H:%M:%SZ"


@pytest.fixture(scope="package")
def sandbox_server() -> Iterator[SandboxServer]:
    """A sandbox of this package's own: the live board compares Genesys times with the
    portal's clock, so the simulated clock must not carry hours that other packages'
    tests moved it on by."""
    yield from served_sandbox()


@pytest.fixture
def ended(sandbox: Any) -> Iterator[list[str]]:
    """Conversations created here are ended afterwards, so no ACW timer fires in another test."""
    made: list[str] = []
    yield made
    sandbox.reset()
    for cid in made:
        sandbox.advance(cid, to="ended")


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
