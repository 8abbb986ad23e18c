"""Parsing: lenient about extra and missing optional fields, strict about ids and times."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from integrations.genesys import (
    AnalyticsConversation,
    Conversation,
    InvalidResponseError,
    Queue,
    SystemWrapupCode,
    TokenInfo,
    Wrapup,
    WrapupCode,
    WrapupCodeId,
    parse_wrapup_code,
)

from .fakes import CODE, PID, QUEUE

CONVERSATION = {  # the shape docs/genesys-api.md §4 describes, with an unknown field added
    "id": "0ae82ce3-5c8e-4865-82d4-caa2a4e6a1de", "startTime": "2026-05-03T14:02:11.123Z", "address": "tel:+18005550100",
    "divisions": [{"division": {"id": "f6b0b0a4-2c1e-4d8a-9b8e-5a1d2e3f4a5b"}, "entities": []}],
    "someFutureField": {"x": 1},
    "participants": [
        {"id": "1b9f3c2a-5d6e-4f70-8a9b-0c1d2e3f4a5b", "purpose": "customer", "wrapupRequired": False,
         "calls": [{"id": "4d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a", "state": "disconnected"}]},
        {"id": PID, "purpose": "agent", "name": "Jane Agent", "userId": "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f",
         "startTime": "2026-05-03T14:02:29.500Z", "endTime": "2026-05-03T14:08:10.000Z", "queueId": QUEUE,
         "wrapupRequired": True, "wrapupPrompt": "timeout", "wrapupTimeoutMs": 60000, "startAcwTime": "2026-05-03T14:08:10.000Z",
         "calls": [{"id": "b7e6d5c4-3a2b-4c1d-9e0f-a1b2c3d4e5f6", "state": "disconnected", "direction": "inbound",
                    "disconnectedTime": "2026-05-03T14:08:10.000Z", "afterCallWork": {"state": "pending"}}]},
    ],
}  # fmt: skip


def test_conversation_from_the_reference() -> None:
    conv = Conversation.from_api(CONVERSATION)
    assert conv.end_time is None and conv.start_time == datetime(2026, 5, 3, 14, 2, 11, 123000, tzinfo=timezone.utc)
    assert conv.division_ids == ("f6b0b0a4-2c1e-4d8a-9b8e-5a1d2e3f4a5b",)
    agent = conv.participant(PID)
    assert agent is not None and conv.agent_participants == (agent,)
    assert agent.wrapup is None and agent.wrapup_prompt == "timeout" and agent.wrapup_timeout_ms == 60000
    assert agent.communications[0].media == "calls" and agent.communications[0].acw_state == "pending"
    assert agent.in_acw_without_code
    assert not conv.participants[0].in_acw_without_code


def test_saved_wrapup_ends_acw_without_code() -> None:
    data = {**CONVERSATION["participants"][1], "endAcwTime": "2026-05-03T14:09:00Z",
            "wrapup": {"code": CODE, "name": "Billing - Resolved", "notes": "n", "tags": [], "durationSeconds": 35,
                       "endTime": "2026-05-03T14:09:00Z", "provisional": False}}  # fmt: skip
    agent = Conversation.from_api({**CONVERSATION, "participants": [data]}).participants[0]
    assert agent.wrapup == Wrapup(CODE, "Billing - Resolved", "n", (), 35, datetime(2026, 5, 3, 14, 9, tzinfo=timezone.utc), False)
    assert not agent.in_acw_without_code


def test_times_are_aware_utc_even_with_offsets_or_none() -> None:
    code = WrapupCode.from_api({"id": CODE, "name": "A", "dateCreated": "2025-01-10T14:00:00+02:00", "dateModified": "2025-01-10T12:00:00"})
    assert code.date_created == datetime(2025, 1, 10, 12, tzinfo=timezone.utc)
    assert code.date_modified == datetime(2025, 1, 10, 12, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "data",
    [
        {"name": "no id"},
        {"id": "", "name": "empty id"},
        {"id": 42, "name": "number id"},
        {"id": CODE, "name": "bad time", "dateCreated": "yesterday"},
        ["not", "an", "object"],
    ],
)
def test_strict_fields_give_a_typed_error(data: object) -> None:
    with pytest.raises(InvalidResponseError):
        WrapupCode.from_api(data)


def test_missing_optional_fields_are_tolerated() -> None:
    code = WrapupCode.from_api({"id": CODE, "name": "Billing"})
    assert code.division is None and code.date_created is None and code.description is None
    queue = Queue.from_api({"id": QUEUE, "name": "Support EN", "acwSettings": {"wrapupPrompt": "MANDATORY_TIMEOUT", "timeoutMs": 60000},
                            "memberCount": "42", "division": {"id": "d1", "name": "Home"}})  # fmt: skip
    assert queue.acw_settings is not None and queue.acw_settings.wrapup_prompt == "MANDATORY_TIMEOUT"
    assert queue.member_count == 42 and queue.division is not None and queue.division.name == "Home"
    assert Queue.from_api({"id": QUEUE}).name == ""


def test_created_by_as_string_or_object() -> None:
    assert WrapupCode.from_api({"id": CODE, "name": "a", "createdBy": "u1"}).created_by == "u1"
    assert WrapupCode.from_api({"id": CODE, "name": "a", "createdBy": {"id": "u2"}}).created_by == "u2"


def test_token_info() -> None:
    info = TokenInfo.from_api({"organization": {"id": "9a2c", "name": "Acme"}, "authorizedScope": ["conversations", 3],
                               "OAuthClient": {"id": "c0ff", "name": "Wrap-up Portal"}, "extra": True})  # fmt: skip
    assert (info.organization_id, info.organization_name, info.scopes, info.oauth_client_name) == ("9a2c", "Acme", ("conversations",), "Wrap-up Portal")
    with pytest.raises(InvalidResponseError):
        TokenInfo.from_api({"authorizedScope": []})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (CODE, WrapupCodeId(CODE)),
        ("ININ-WRAP-UP-TIMEOUT", SystemWrapupCode("ININ-WRAP-UP-TIMEOUT")),
        ("ININ-OUTBOUND-TimeOut", SystemWrapupCode("ININ-OUTBOUND-TimeOut")),
        ("", None),
        (None, None),
        ("not-a-uuid-but-not-system", WrapupCodeId("not-a-uuid-but-not-system")),
    ],
)
def test_analytics_wrapup_code_is_an_id_or_a_system_literal(raw: object, expected: object) -> None:
    assert parse_wrapup_code(raw) == expected


def test_analytics_conversation_from_the_reference() -> None:
    data = {"conversationId": "0ae82ce3-5c8e-4865-82d4-caa2a4e6a1de", "conversationStart": "2026-05-03T14:02:11.123Z",
            "conversationEnd": "2026-05-03T14:09:10.000Z", "originatingDirection": "inbound", "divisionIds": ["f6b0"],
            "participants": [{"participantId": PID, "participantName": "Jane Agent", "purpose": "agent", "userId": "u",
              "sessions": [{"sessionId": "s", "mediaType": "voice", "direction": "inbound", "ani": "tel:+1555",
                "segments": [{"segmentType": "interact", "segmentStart": "2026-05-03T14:02:30.000Z", "queueId": QUEUE},
                             {"segmentType": "wrapup", "segmentStart": "2026-05-03T14:08:10.000Z", "segmentEnd": "2026-05-03T14:09:10.000Z",
                              "queueId": QUEUE, "wrapUpCode": "ININ-WRAP-UP-TIMEOUT"}]}]}]}  # fmt: skip
    conv = AnalyticsConversation.from_api(data)
    agent = conv.participants[0]
    assert agent.wrap_up_code == SystemWrapupCode("ININ-WRAP-UP-TIMEOUT") and agent.wrap_up_code.is_timeout
    assert agent.sessions[0].wrapup_segments[0].segment_end == datetime(2026, 5, 3, 14, 9, 10, tzinfo=timezone.utc)
    with pytest.raises(InvalidResponseError):
        AnalyticsConversation.from_api({"conversationId": "x"})  # conversationStart is required
