"""Fixtures of the assignment tests: legs made in the shared sandbox (``legs``), no cluster
(``no_queueing``), the rule tests' ``queue``; and for the reliability tests a sandbox of their own and a portal running in other
processes on a database of its own (``processes.Portal``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integrations.genesys_sandbox import OrgSpec, SandboxServer
from tests.assignments.processes import Portal
from tests.fixtures_sandbox import SandboxHelper, clean_helper, served_sandbox
from wrapup_portal.assignments import services
from wrapup_portal.catalog.models import CodeGroup, WrapupCode


@pytest.fixture(scope="module")
def own_sandbox_server() -> Iterator[SandboxServer]:
    """A sandbox for one module alone: the reliability tests move its clock and make thousands of conversations."""
    yield from served_sandbox(seed=1313, org=OrgSpec(queues=4, codes=20, agents=30, days=1, conversations=0, deleted_codes=0))


@pytest.fixture
def own_sandbox(own_sandbox_server: SandboxServer) -> Iterator[SandboxHelper]:
    yield from clean_helper(own_sandbox_server)


@pytest.fixture
def portal(own_sandbox: SandboxHelper, tmp_path: Path) -> Iterator[Portal]:
    """A migrated portal database with the sandbox's catalog; clusters started on it are stopped after."""
    running = Portal(own_sandbox, tmp_path)
    try:
        running.prepare()
        yield running
    finally:
        running.close()


@pytest.fixture
def acw_legs(own_sandbox: SandboxHelper) -> Any:
    """``acw_legs(n)``: n conversations with one agent leg in after-call work, on a queue without an
    ACW time-out (so moving the clock ends none); returns (queue, [(conversation id, participant id)…])."""
    sandbox = own_sandbox
    queue = next(q for q in sandbox.org()["queues"] if q["wrapupPrompt"] == "MANDATORY")

    def make(count: int) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        legs = []
        for _ in range(count):
            conversation = sandbox.create_conversation(queueId=queue["id"], state="acw")
            agent = next(p for p in conversation["participants"] if p["purpose"] == "agent")
            legs.append((conversation["id"], agent["id"]))
        return queue, legs

    return make


@pytest.fixture
def queue(catalog: Any) -> CodeGroup:
    """A synced queue offering at least two codes, with a code it does not offer elsewhere (the rule tests)."""
    for group in CodeGroup.objects.order_by("name"):
        if group.codes.count() >= 2 and WrapupCode.objects.exclude(memberships__group=group).exists():
            return group
    pytest.skip("the sandbox catalog has no queue with two codes")


def codes(queue: CodeGroup) -> list[WrapupCode]:
    """The queue's codes by name."""
    return list(queue.codes.order_by("name"))


@pytest.fixture
def no_queueing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests run the engine themselves (or the command does, with --wait); nothing goes to a cluster."""
    monkeypatch.setattr(services, "assignment_enqueue", lambda ids: None)
    monkeypatch.setattr(services, "assignment_feed", lambda **kwargs: 0)


@pytest.fixture
def legs(catalog: Any) -> Iterator[Any]:
    """Make conversations (on a queue without an ACW time-out by default); all are ended afterwards."""
    sandbox = catalog
    queues = sandbox.org()["queues"]
    queue = next(q for q in queues if q["wrapupPrompt"] == "MANDATORY")
    made: list[str] = []

    def make(state: str = "acw", **spec: Any) -> tuple[str, str]:
        conversation = sandbox.create_conversation(queueId=spec.pop("queueId", queue["id"]), state=state, **spec)
        made.append(conversation["id"])
        agent = next(p for p in conversation["participants"] if p["purpose"] == "agent")
        return conversation["id"], agent["id"]

    make.queue = queue  # type: ignore[attr-defined]
    make.other = next(q for q in queues if q["id"] != queue["id"])  # type: ignore[attr-defined]
    make.sandbox = sandbox  # type: ignore[attr-defined]
    yield make
    sandbox.reset()
    for cid in made:
        sandbox.advance(cid, to="ended")
