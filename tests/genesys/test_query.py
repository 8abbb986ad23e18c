"""The typed query builder produces the API's ConversationQuery and refuses bad filters."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from integrations.genesys import ConversationQuery, InvalidArgumentError

from .fakes import CID, CODE, QUEUE

START = datetime(2026, 5, 1, tzinfo=timezone.utc)
END = datetime(2026, 5, 8, tzinfo=timezone.utc)
USER = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"
DIV = "f6b0b0a4-2c1e-4d8a-9b8e-5a1d2e3f4a5b"


def pred(dimension: str, value: str | None = None, operator: str = "matches") -> dict[str, str]:
    out = {"type": "dimension", "dimension": dimension, "operator": operator}
    return {**out, "value": value} if value is not None else out


def test_reference_example_query() -> None:
    query = ConversationQuery(START, END, queue_ids=(QUEUE,), purpose="agent", media_types=("voice",),
                              wrapup_codes=("ININ-WRAP-UP-TIMEOUT",), wrapup_code_missing=True)  # fmt: skip
    assert query.to_dict() == {
        "interval": "2026-05-01T00:00:00.000Z/2026-05-08T00:00:00.000Z", "order": "desc", "orderBy": "conversationStart",
        "paging": {"pageSize": 100, "pageNumber": 1},
        "conversationFilters": [{"type": "and", "predicates": [pred("conversationEnd", operator="exists")]}],
        "segmentFilters": [
            {"type": "and", "predicates": [pred("purpose", "agent"), pred("queueId", QUEUE), pred("mediaType", "voice")]},
            {"type": "or", "predicates": [pred("wrapUpCode", "ININ-WRAP-UP-TIMEOUT"), pred("wrapUpCode", operator="notExists")]},
        ],
    }  # fmt: skip


def test_every_filter_lands_in_its_own_list() -> None:
    query = ConversationQuery(START, END, conversation_id=CID.upper(), ended_only=False, division_ids=[DIV, DIV],
                              user_ids=[USER, QUEUE], direction="inbound", ani="tel:+1555", dnis="tel:+1800",
                              wrapup_code_present=True, order="asc", order_by="conversationEnd", page_size=50, page_number=3)  # fmt: skip
    body = query.to_dict()
    assert body["conversationFilters"] == [{"type": "and", "predicates": [pred("conversationId", CID), pred("divisionId", DIV)]}]
    assert body["segmentFilters"] == [
        {"type": "and", "predicates": [pred("direction", "inbound"), pred("ani", "tel:+1555"), pred("dnis", "tel:+1800"),
                                       pred("wrapUpCode", operator="exists")]},
        {"type": "or", "predicates": [pred("userId", USER), pred("userId", QUEUE)]},
    ]  # fmt: skip
    assert (body["order"], body["orderBy"], body["paging"]) == ("asc", "conversationEnd", {"pageSize": 50, "pageNumber": 3})
    assert query.page(4).to_dict()["paging"]["pageNumber"] == 4


def test_code_ids_and_literals_are_ored() -> None:
    body = ConversationQuery(START, END, ended_only=False, wrapup_codes=[CODE, "ININ-OUTBOUND-TimeOut"]).to_dict()
    assert "conversationFilters" not in body
    assert body["segmentFilters"] == [{"type": "or", "predicates": [pred("wrapUpCode", CODE), pred("wrapUpCode", "ININ-OUTBOUND-TimeOut")]}]


def test_last_ends_a_minute_ago() -> None:
    now = datetime(2026, 5, 8, 12, 0, tzinfo=timezone.utc)
    query = ConversationQuery.last(timedelta(hours=1), now=now)
    assert query.to_dict()["interval"] == "2026-05-08T10:59:00.000Z/2026-05-08T11:59:00.000Z"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"start": datetime(2026, 5, 1), "end": END},  # naive
        {"start": END, "end": START},
        {"conversation_id": ""},
        {"conversation_id": "../../users/me"},
        {"queue_ids": ["not-a-uuid"]},
        {"wrapup_codes": ["Billing"]},
        {"wrapup_codes": ["ININ-<script>"]},
        {"media_types": ["VOICE"]},
        {"direction": "sideways"},
        {"purpose": "boss"},
        {"order": "random"},
        {"order_by": "name"},
        {"page_size": 101},
        {"page_size": 0},
        {"page_number": 0},
        {"ani": ""},
        {"wrapup_code_present": True, "wrapup_code_missing": True},
    ],
)
def test_bad_filters_are_refused(kwargs: dict[str, object]) -> None:
    args = {"start": START, "end": END, **kwargs}
    with pytest.raises(InvalidArgumentError):
        ConversationQuery(**args)  # type: ignore[arg-type]
