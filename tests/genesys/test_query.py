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
            # "No code" cannot be a segment predicate (every interact segment has none): the
            # query asks for agent legs that reached ACW, and matching_legs decides per leg.
            {"type": "and", "predicates": [pred("purpose", "agent"), pred("segmentType", "wrapup")]},
        ],
    }  # fmt: skip


def test_every_filter_lands_in_its_own_list() -> None:
    query = ConversationQuery(START, END, conversation_id=CID.upper(), ended_only=False, division_ids=[DIV, DIV],
                              user_ids=[USER, QUEUE], direction="inbound", ani="tel:+1555", dnis="tel:+1800",
                              wrapup_code_present=True, order="asc", order_by="conversationEnd", page_size=50, page_number=3)  # fmt: skip
    body = query.to_dict()
    assert body["conversationFilters"] == [{"type": "and", "predicates": [pred("conversationId", CID), pred("divisionId", DIV)]}]
    assert body["segmentFilters"] == [
        {"type": "and", "predicates": [pred("direction", "inbound"), pred("ani", "tel:+1555"), pred("dnis", "tel:+1800")]},
        {"type": "or", "predicates": [pred("userId", USER), pred("userId", QUEUE)]},
        {"type": "and", "predicates": [pred("segmentType", "wrapup"), pred("wrapUpCode", operator="exists")]},
    ]  # fmt: skip
    assert (body["order"], body["orderBy"], body["paging"]) == ("asc", "conversationEnd", {"pageSize": 50, "pageNumber": 3})
    assert query.page(4).to_dict()["paging"]["pageNumber"] == 4


def test_code_ids_and_literals_are_ored() -> None:
    body = ConversationQuery(START, END, ended_only=False, wrapup_codes=[CODE, "ININ-OUTBOUND-TimeOut"]).to_dict()
    assert "conversationFilters" not in body
    # Each code shares a clause with segmentType=wrapup: the same wrap-up segment must carry it.
    assert body["segmentFilters"] == [{"type": "or", "clauses": [
        {"type": "and", "predicates": [pred("segmentType", "wrapup"), pred("wrapUpCode", CODE)]},
        {"type": "and", "predicates": [pred("segmentType", "wrapup"), pred("wrapUpCode", "ININ-OUTBOUND-TimeOut")]},
    ]}]  # fmt: skip


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


def _leg(pid: str, queue: str, *segments: dict[str, str]) -> dict[str, object]:
    return {"participantId": pid, "purpose": "agent", "userId": USER,
            "sessions": [{"sessionId": pid, "mediaType": "voice", "segments": [{"queueId": queue, **s} for s in segments]}]}  # fmt: skip


def test_leg_filters_and_states_are_decided_per_leg() -> None:
    from integrations.genesys import AnalyticsConversation

    talk = {"segmentType": "interact", "segmentStart": "2026-05-02T10:00:00Z", "segmentEnd": "2026-05-02T10:05:00Z"}
    conversation = AnalyticsConversation.from_api({
        "conversationId": CID, "conversationStart": "2026-05-02T10:00:00Z",
        "participants": [
            {"participantId": "customer", "purpose": "customer", "sessions": []},
            _leg("coded", QUEUE, talk, {"segmentType": "wrapup", "segmentStart": "2026-05-02T10:05:00Z",
                                        "segmentEnd": "2026-05-02T10:06:00Z", "wrapUpCode": CODE}),
            _leg("open", DIV, {**talk, "segmentStart": "2026-05-02T10:05:00Z"},
                 {"segmentType": "wrapup", "segmentStart": "2026-05-02T10:09:00Z"}),
            _leg("talking", DIV, {"segmentType": "interact", "segmentStart": "2026-05-02T10:09:00Z"}),
        ],
    })  # fmt: skip
    legs = {leg.participant_id: leg for leg in conversation.participants}
    assert [legs[p].leg_state for p in ("coded", "open", "talking")] == ["final", "acw", "connected"]

    def found(**filters: object) -> list[str]:
        return [leg.participant_id for leg in ConversationQuery(START, END, **filters).matching_legs(conversation)]

    assert found() == ["coded", "open", "talking"]  # agent legs only, never the customer
    assert found(wrapup_code_missing=True) == ["open"]  # a leg still talking has no ACW yet
    assert found(wrapup_code_missing=True, queue_ids=(QUEUE,)) == []  # the queue's leg has a code
    assert found(wrapup_codes=(CODE,)) == ["coded"]
    assert found(wrapup_code_present=True, queue_ids=(DIV,)) == []
