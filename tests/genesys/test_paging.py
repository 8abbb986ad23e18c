"""Paged endpoints are generators that stop at the right page, whatever the envelope says."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from integrations.genesys import ConversationQuery, InvalidArgumentError, InvalidResponseError

from .fakes import CODE, QUEUE, FakeSession, make_client, response


def code(n: int) -> dict[str, Any]:
    return {"id": f"00000000-0000-4000-8000-{n:012d}", "name": f"Code {n}"}


def page(entities: list[dict[str, Any]], number: int, count: int | None, next_uri: str | None = "auto", **extra: Any) -> Any:
    body: dict[str, Any] = {"entities": entities, "pageSize": 100, "pageNumber": number, "total": 0, **extra}
    if count is not None:
        body["pageCount"] = count
    if next_uri == "auto":
        next_uri = f"/api/v2/routing/wrapupcodes?pageSize=100&pageNumber={number + 1}"
    if next_uri == "null":
        body["nextUri"] = None
    elif next_uri is not None:
        body["nextUri"] = next_uri
    return response(200, body)


def test_follows_next_uri_until_the_last_page() -> None:
    session = FakeSession(page([code(1), code(2)], 1, 3), page([code(3)], 2, 3), page([code(4)], 3, 3, next_uri=None))
    names = [c.name for c in make_client(session).iter_wrapup_codes()]
    assert names == ["Code 1", "Code 2", "Code 3", "Code 4"]
    assert [c[1] for c in session.calls] == [
        "/api/v2/routing/wrapupcodes?pageSize=100&pageNumber=1",
        "/api/v2/routing/wrapupcodes?pageSize=100&pageNumber=2",
        "/api/v2/routing/wrapupcodes?pageSize=100&pageNumber=3",
    ]


def test_empty_page_stops() -> None:
    session = FakeSession(page([], 1, 0))
    assert list(make_client(session).iter_wrapup_codes()) == []
    assert len(session.calls) == 1


def test_page_number_reaching_page_count_stops_even_with_a_next_uri() -> None:
    session = FakeSession(page([code(1)], 2, 2))  # a buggy nextUri past the end
    assert len(list(make_client(session).iter_queue_wrapup_codes(QUEUE))) == 1
    assert len(session.calls) == 1


def test_absent_or_null_next_uri_stops() -> None:
    session = FakeSession(page([code(1)], 1, None, next_uri=None), page([code(1)], 1, 5, next_uri="null"))
    client = make_client(session)
    assert len(list(client.iter_wrapup_codes())) == 1
    assert len(list(client.iter_wrapup_codes())) == 1
    assert len(session.calls) == 2


def test_page_size_is_capped_and_validated() -> None:
    session = FakeSession(page([], 1, 0))
    list(make_client(session).iter_queues(name="Support*", page_size=500))
    assert session.calls[0][2]["params"] == {"pageSize": 100, "name": "Support*", "pageNumber": 1}
    with pytest.raises(InvalidArgumentError):
        make_client(session).iter_queues(page_size=0)
    assert len(session.calls) == 1  # refused before anything was sent


def test_foreign_next_uri_is_not_followed_with_our_token() -> None:
    session = FakeSession(
        page([code(1)], 1, 2, next_uri="https://evil.example/api/v2/routing/wrapupcodes?pageNumber=2"),
        page([code(2)], 2, 2, next_uri=None),
    )
    assert len(list(make_client(session).iter_wrapup_codes())) == 2
    assert session.calls[1][1] == "/api/v2/routing/wrapupcodes?pageSize=100&pageNumber=2"


def test_division_views_include_deleted_by_default() -> None:
    body = {"entities": [{"id": CODE, "name": "Old code", "division": {"id": "d"}, "state": "deleted"}], "pageNumber": 1, "pageCount": 1}
    session = FakeSession(response(200, body))
    views = list(make_client(session).iter_wrapup_code_division_views())
    assert views[0].state == "deleted"
    assert session.calls[0][2]["params"]["includeState"] == "ActiveAndDeleted"
    with pytest.raises(InvalidArgumentError):
        make_client(session).iter_wrapup_code_division_views(include_state="Everything")


def test_a_page_that_is_not_an_object_is_a_typed_error() -> None:
    session = FakeSession(response(200, ["a", "list"]))
    with pytest.raises(InvalidResponseError):
        list(make_client(session).iter_queues())


# --- analytics ----------------------------------------------------------------------------------

def conv(n: int) -> dict[str, Any]:
    return {"conversationId": f"00000000-0000-4000-8000-{n:012d}", "conversationStart": "2026-05-03T14:02:11.123Z"}


def test_details_pages_until_a_short_page_and_drops_repeats() -> None:
    query = ConversationQuery(datetime(2026, 5, 1, tzinfo=timezone.utc), datetime(2026, 5, 2, tzinfo=timezone.utc), page_size=2)
    session = FakeSession(
        response(200, {"totalHits": 99, "conversations": [conv(1), conv(2)]}),
        response(200, {"totalHits": 3, "conversations": [conv(2), conv(3)]}),  # conv 2 repeats across pages
        response(200, {"totalHits": 3}),  # an empty page omits "conversations"
    )
    ids = [c.conversation_id[-1] for c in make_client(session).iter_conversation_details(query)]
    assert ids == ["1", "2", "3"]
    assert [call[2]["json"]["paging"] for call in session.calls] == [
        {"pageSize": 2, "pageNumber": 1}, {"pageSize": 2, "pageNumber": 2}, {"pageSize": 2, "pageNumber": 3}]


def test_dict_query_is_paged_with_the_cap() -> None:
    session = FakeSession(response(200, {"conversations": [conv(1)]}))
    query = {"interval": "2026-05-01T00:00:00Z/2026-05-02T00:00:00Z", "paging": {"pageSize": 1000}}
    assert len(list(make_client(session).iter_conversation_details(query))) == 1
    assert session.calls[0][2]["json"]["paging"] == {"pageSize": 100, "pageNumber": 1}
    assert query["paging"] == {"pageSize": 1000}  # the caller's dict is untouched


def test_one_details_page_and_a_query_without_interval() -> None:
    session = FakeSession(response(200, {"totalHits": 1, "conversations": [conv(1)]}))
    client = make_client(session)
    result = client.query_conversation_details({"interval": "2026-05-01T00:00:00Z/2026-05-02T00:00:00Z"})
    assert result.total_hits == 1 and result.page_size == 25 and len(result.conversations) == 1
    assert session.calls[0][0] == "POST" and session.calls[0][1] == "/api/v2/analytics/conversations/details/query"
    with pytest.raises(InvalidArgumentError):
        client.query_conversation_details({"paging": {}})
