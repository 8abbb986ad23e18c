"""Wrap-up filters of the search, against the sandbox's own record of every leg (ground truth).

Asserting the query's JSON could not see the bug these tests guard: a lone ``wrapUpCode
notExists`` segment filter is met by every interact segment, so "no wrap-up code" returned
every conversation. Here the legs a query finds are compared, leg by leg, with the legs the
sandbox knows to be there (``GET /__sandbox/legs``, read from its model, not its analytics).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from integrations.genesys import WRAP_UP_TIMEOUT, ConversationQuery, GenesysClient

pytestmark = pytest.mark.integration

Leg = tuple[str, str]  # (conversation id, participant id)


def window(sandbox: Any) -> tuple[datetime, datetime]:
    """Seven whole UTC days of seeded history, ending at the start of the sandbox's today.

    Whole days, because Genesys (and the sandbox) take every conversation that started on a
    day the interval touches; conversations tests create "now" fall outside it.
    """
    now = datetime.fromisoformat(sandbox.clock()["now"].replace("Z", "+00:00"))
    end = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return end - timedelta(days=7), end


def truth(sandbox: Any, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Agent legs of ended conversations in the window, as the sandbox's model has them."""
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    response = sandbox.http.get(f"{sandbox.url}/__sandbox/legs",
                                params={"start": start.strftime(stamp), "end": end.strftime(stamp)}, timeout=30)
    response.raise_for_status()
    return [leg for leg in response.json() if leg["ended"]]


def found(client: GenesysClient, query: ConversationQuery) -> tuple[set[Leg], set[str]]:
    """(legs the query's leg filter keeps, conversations Genesys returned), over every page."""
    legs: set[Leg] = set()
    conversations: set[str] = set()
    for conversation in client.iter_conversation_details(query):
        conversations.add(conversation.conversation_id)
        legs.update((conversation.conversation_id, leg.participant_id) for leg in query.matching_legs(conversation))
    return legs, conversations


def legs_of(rows: Iterable[dict[str, Any]]) -> set[Leg]:
    return {(row["conversationId"], row["participantId"]) for row in rows}


@pytest.fixture
def world(sandbox: Any) -> tuple[GenesysClient, datetime, datetime, list[dict[str, Any]]]:
    client = GenesysClient(client_id=sandbox.client_id, client_secret=sandbox.client_secret,
                           api_url=sandbox.url, login_url=getattr(sandbox, "login_url", sandbox.url), timeout=(2.0, 30.0))  # fmt: skip
    start, end = window(sandbox)
    rows = truth(sandbox, start, end)
    return client, start, end, rows


def test_no_code_finds_exactly_the_legs_without_a_code(world: Any) -> None:
    client, start, end, rows = world
    expected = legs_of(r for r in rows if r["acwBegun"] and r["wrapupCode"] is None)
    # The data must make the question meaningful: some legs lack a code, most do not.
    assert 0 < len(expected) < len(rows) / 2

    legs, conversations = found(client, ConversationQuery(start, end, wrapup_code_missing=True))

    assert legs == expected
    assert conversations < {r["conversationId"] for r in rows}  # not "everything" (the old bug)


def test_timeout_and_a_real_code_match_the_ground_truth(world: Any) -> None:
    client, start, end, rows = world
    timed_out = legs_of(r for r in rows if r["wrapupCode"] == WRAP_UP_TIMEOUT)
    real = Counter(r["wrapupCode"] for r in rows if r["wrapupCode"] and not r["wrapupCode"].startswith("ININ-"))
    code, _ = real.most_common(1)[0]
    coded = legs_of(r for r in rows if r["wrapupCode"] == code)
    assert timed_out and coded

    legs, conversations = found(client, ConversationQuery(start, end, wrapup_codes=(WRAP_UP_TIMEOUT,)))
    assert legs == timed_out
    # For one code the server-side clause (segmentType=wrapup AND wrapUpCode=X) is exact.
    assert conversations == {cid for cid, _ in timed_out}

    legs, conversations = found(client, ConversationQuery(start, end, wrapup_codes=(code,)))
    assert legs == coded
    assert conversations == {cid for cid, _ in coded}


def test_no_code_or_timed_out_is_the_union(world: Any) -> None:
    client, start, end, rows = world
    expected = legs_of(r for r in rows if (r["acwBegun"] and r["wrapupCode"] is None) or r["wrapupCode"] == WRAP_UP_TIMEOUT)

    legs, _ = found(client, ConversationQuery(start, end, wrapup_codes=(WRAP_UP_TIMEOUT,), wrapup_code_missing=True))

    assert legs == expected


def test_any_code_excludes_legs_without_one(world: Any) -> None:
    client, start, end, rows = world
    expected = legs_of(r for r in rows if r["wrapupCode"] is not None)

    legs, _ = found(client, ConversationQuery(start, end, wrapup_code_present=True))

    assert legs == expected


def test_queue_and_no_code_are_met_by_the_same_leg(world: Any) -> None:
    """A transfer's legs sit on different queues: the queue's leg must be the one without a code."""
    client, start, end, rows = world
    missing = [r for r in rows if r["acwBegun"] and r["wrapupCode"] is None]
    queue, _ = Counter(r["queueId"] for r in missing).most_common(1)[0]
    expected = legs_of(r for r in missing if r["queueId"] == queue)

    legs, _ = found(client, ConversationQuery(start, end, queue_ids=(queue,), wrapup_code_missing=True))

    assert legs == expected
    assert all(r["queueId"] == queue for r in rows if (r["conversationId"], r["participantId"]) in legs)


def test_a_window_in_utc_is_the_same_in_any_offset(world: Any) -> None:
    client, start, end, rows = world
    paris = timezone(timedelta(hours=1))
    legs, _ = found(client, ConversationQuery(start.astimezone(paris), end.astimezone(paris), wrapup_code_missing=True))
    assert legs == legs_of(r for r in rows if r["acwBegun"] and r["wrapupCode"] is None)
