"""Each endpoint method: the path, the verb, the body, and what comes back."""

from __future__ import annotations

import pytest

from integrations.genesys import InvalidArgumentError, InvalidResponseError, NotFoundError

from .fakes import CID, CODE, PID, QUEUE, FakeSession, error_body, make_client, response


def test_token_info_uses_tokens_me() -> None:
    session = FakeSession(response(200, {"organization": {"id": "o1", "name": "Acme"}, "authorizedScope": ["conversations"]}))
    info = make_client(session).token_info()
    assert (info.organization_name, info.scopes) == ("Acme", ("conversations",))
    assert session.calls[0][:2] == ("GET", "/api/v2/tokens/me")


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda c: c.organization(), "/api/v2/organizations/me"),
        (lambda c: c.get_wrapup_code(CODE), f"/api/v2/routing/wrapupcodes/{CODE}"),
        (lambda c: c.get_queue(QUEUE.upper()), f"/api/v2/routing/queues/{QUEUE}"),
        (lambda c: c.get_conversation(CID), f"/api/v2/conversations/{CID}"),
        (lambda c: c.get_conversation_details(CID), f"/api/v2/analytics/conversations/{CID}/details"),
        (lambda c: c.get_participant_wrapup_codes(CID, PID), f"/api/v2/conversations/{CID}/participants/{PID}/wrapupcodes"),
    ],
)
def test_get_paths(call, path: str) -> None:
    body = {"id": CODE, "name": "x", "conversationId": CID, "conversationStart": "2026-05-03T14:02:11Z"}
    session = FakeSession(response(200, [body] if path.endswith("wrapupcodes") else body))
    call(make_client(session))
    assert session.calls[0][:2] == ("GET", path)
    connect, read = session.calls[0][2]["timeout"]
    assert connect == 5.0 and read == 10.0  # explicit timeouts on every request


def test_participant_wrapup_read_and_none() -> None:
    session = FakeSession(response(200, {"code": CODE, "notes": "n", "durationSeconds": 3}), response(204), response(200, {}))
    client = make_client(session)
    assert client.get_participant_wrapup(CID, PID).code == CODE  # type: ignore[union-attr]
    assert client.get_participant_wrapup(CID, PID) is None
    assert client.get_participant_wrapup(CID, PID) is None
    assert session.calls[0][1] == f"/api/v2/conversations/{CID}/participants/{PID}/wrapup?provisional=false"


def test_participant_codes_accept_a_listing_too() -> None:
    session = FakeSession(response(200, {"entities": [{"id": CODE, "name": "Billing"}]}))
    assert [c.name for c in make_client(session).get_participant_wrapup_codes(CID, PID)] == ["Billing"]


def test_write_sends_only_wrapup() -> None:
    session = FakeSession(response(202), response(200, {"anything": 1}))
    client = make_client(session)
    client.set_participant_wrapup(CID, PID, code_id=CODE)
    client.set_participant_wrapup(CID, PID, code_id=CODE, notes="Set by Wrap-up Portal")
    assert session.calls[0][:2] == ("PATCH", f"/api/v2/conversations/{CID}/participants/{PID}")
    assert session.calls[0][2]["json"] == {"wrapup": {"code": CODE}}
    assert session.calls[1][2]["json"] == {"wrapup": {"code": CODE, "notes": "Set by Wrap-up Portal"}}


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_conversation(""),
        lambda c: c.get_conversation("   "),
        lambda c: c.get_conversation(None),
        lambda c: c.get_conversation(f"{CID}/participants"),
        lambda c: c.get_queue("../users/me"),
        lambda c: c.set_participant_wrapup(CID, "", code_id=CODE),
        lambda c: c.set_participant_wrapup(CID, PID, code_id="Billing - Resolved"),
        lambda c: c.set_participant_wrapup(CID, PID, code_id=CODE, notes="x" * 5000),
        lambda c: c.iter_queue_wrapup_codes("nope"),
        lambda c: c.iter_wrapup_codes(name=""),
    ],
)
def test_malformed_input_is_refused_before_sending(call) -> None:
    session = FakeSession()
    with pytest.raises(InvalidArgumentError) as caught:
        call(make_client(session))
    assert isinstance(caught.value, ValueError)
    assert session.calls == [] and session.token_calls == []


def test_html_page_with_200_is_a_typed_error() -> None:
    html = "<html><title>Corporate proxy: sign in</title></html>"
    session = FakeSession(response(200, text=html, content_type="text/html"), response(200, text=""))
    client = make_client(session)
    with pytest.raises(InvalidResponseError, match="Corporate proxy: sign in"):
        client.get_conversation(CID)
    with pytest.raises(InvalidResponseError, match="empty body"):
        client.get_conversation(CID)


def test_not_found_surfaces_without_retry() -> None:
    session = FakeSession(response(404, error_body(404, "not.found"), headers={"ININ-Correlation-Id": "c-404"}))
    with pytest.raises(NotFoundError) as caught:
        make_client(session).get_conversation(CID)
    assert caught.value.correlation_id == "c-404" and len(session.calls) == 1
