"""Conversation detail and the live board, against the sandbox over HTTP."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from integrations.genesys import WRAP_UP_TIMEOUT
from wrapup_portal.audit.models import Action
from wrapup_portal.audit.services import Actor, audit_record
from wrapup_portal.catalog.models import CodeGroup

from .conftest import api_calls, sandbox_now

pytestmark = pytest.mark.integration


def timed_queue(sandbox: Any) -> dict[str, Any]:
    return next(q for q in sandbox.org()["queues"] if q["wrapupPrompt"] == "MANDATORY_TIMEOUT")


def agent_legs(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in conversation["participants"] if p["purpose"] == "agent"]


def test_detail_shows_legs_timeline_and_who_set_each_code(catalog: Any, lead: Any, grant: Any, client_for: Any,
                                                          ended: list[str]) -> None:  # fmt: skip
    sandbox = catalog
    queue = timed_queue(sandbox)
    grant(lead, [queue["id"]])
    conversation = sandbox.create_conversation(queueId=queue["id"], state="acw", agents=2)
    ended.append(conversation["id"])
    first, second = agent_legs(conversation)
    sandbox.advance(conversation["id"], participantId=first["id"], to="timeout")
    code = queue["codeIds"][0]
    sandbox.advance(conversation["id"], participantId=second["id"], to="wrapped", wrapupCode=code)

    html = client_for(lead).get(f"/interactions/{conversation['id']}/").content.decode()

    assert queue["name"] in html
    assert "Timed out (no code chosen)" in html and "ACW timed out" in html
    assert CodeGroup.objects.get(queue_id=queue["id"]).codes.get(code_id=code).name in html
    assert ">Agent</td>" in html  # the second leg's code was the agent's own
    assert html.count('class="seg seg-wrapup"') == 2  # one wrap-up segment per leg on the timeline
    assert "The portal has not changed anything on this conversation." in html


def test_a_code_the_portal_set_is_shown_as_the_portals(catalog: Any, admin_user: Any, client_for: Any,
                                                       ended: list[str]) -> None:  # fmt: skip
    sandbox = catalog
    queue = timed_queue(sandbox)
    conversation = sandbox.create_conversation(queueId=queue["id"], state="wrapped", wrapupCode=queue["codeIds"][1])
    ended.append(conversation["id"])
    leg = agent_legs(conversation)[0]
    audit_record(action=Action.SYNC_STARTED, actor=Actor.system("assignments"), conversation_id=conversation["id"],
                 participant_id=leg["id"], code_after_id=queue["codeIds"][1], code_after_name="x", outcome="applied")  # fmt: skip

    html = client_for(admin_user).get(f"/interactions/{conversation['id']}/").content.decode()

    assert "Wrap-up Portal</td>" in html


def test_detail_of_another_queue_or_unknown_or_malformed_is_not_found(catalog: Any, lead: Any, grant: Any,
                                                                      client_for: Any, ended: list[str]) -> None:  # fmt: skip
    sandbox = catalog
    mine, other = sandbox.org()["queues"][:2]
    grant(lead, [mine["id"]])
    conversation = sandbox.create_conversation(queueId=other["id"], state="ended")
    client = client_for(lead)

    assert client.get(f"/interactions/{conversation['id']}/").status_code == 404
    assert client.get("/interactions/0ae82ce3-5c8e-4865-82d4-caa2a4e6a1de/").status_code == 404
    before = api_calls(sandbox)
    assert client.get("/interactions/not-a-conversation/").status_code == 404
    assert api_calls(sandbox) == before


def test_board_lists_legs_in_acw_on_the_leads_queues_with_their_deadline(catalog: Any, lead: Any, grant: Any,
                                                                         client_for: Any, ended: list[str]) -> None:  # fmt: skip
    sandbox = catalog
    queue = timed_queue(sandbox)
    other = next(q for q in sandbox.org()["queues"] if q["id"] != queue["id"])
    grant(lead, [queue["id"]])
    mine = sandbox.create_conversation(queueId=queue["id"], state="acw")
    theirs = sandbox.create_conversation(queueId=other["id"], state="acw")
    coded = sandbox.create_conversation(queueId=queue["id"], state="acw")
    ended.extend([mine["id"], theirs["id"], coded["id"]])
    sandbox.advance(coded["id"], to="wrapped", wrapupCode=queue["codeIds"][0])

    html = client_for(lead).get("/interactions/live/").content.decode()

    assert f"/interactions/{mine['id']}/" in html
    assert f"/interactions/{theirs['id']}/" not in html  # not the lead's queue
    assert f"/interactions/{coded['id']}/" not in html  # has a code: nothing to rescue
    assert "data-deadline=" in html  # a time-boxed queue: the countdown's deadline


def test_board_shows_a_leg_that_just_timed_out_and_polls_as_a_fragment(catalog: Any, lead: Any, grant: Any,
                                                                       client_for: Any, ended: list[str]) -> None:  # fmt: skip
    sandbox = catalog
    queue = timed_queue(sandbox)
    grant(lead, [queue["id"]])
    conversation = sandbox.create_conversation(queueId=queue["id"], state="acw")
    ended.append(conversation["id"])
    sandbox.clock(advance_seconds=queue["timeoutMs"] / 1000 + 1)  # the ACW timer runs out
    client = client_for(lead)

    fragment = client.get("/interactions/live/", headers={"HX-Request": "true"}).content.decode()

    assert fragment.lstrip().startswith('<div id="board"')  # just the region htmx swaps
    timed_out = fragment.split("Timed out in the last 30 minutes")[1]
    assert f"/interactions/{conversation['id']}/" in timed_out


def test_board_refresh_within_seconds_is_served_from_the_cache(catalog: Any, admin_user: Any, client_for: Any) -> None:
    client = client_for(admin_user)
    client.get("/interactions/live/")
    before = api_calls(catalog)
    client.get("/interactions/live/")
    assert api_calls(catalog) == before


def test_board_says_plainly_when_genesys_is_down(catalog: Any, admin_user: Any, client_for: Any) -> None:
    catalog.configure(error_rate=1.0)
    response = client_for(admin_user).get("/interactions/live/")
    assert response.status_code == 200
    assert "The board keeps trying." in response.content.decode()


def test_sandbox_now_is_close_to_the_portals(catalog: Any) -> None:
    # The board computes deadlines against the portal's clock; the sandbox must agree with it.
    from django.utils import timezone

    assert abs(sandbox_now(catalog) - timezone.now()) < timedelta(minutes=5)
    assert WRAP_UP_TIMEOUT.startswith("ININ-")
