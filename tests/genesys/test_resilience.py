"""Retries, backoff, Retry-After, re-authentication, writes re-sent only when not applied, secrets never shown."""

from __future__ import annotations

import logging
import threading

import pytest
import requests

from integrations.genesys import (
    BadClientCredentialsError,
    GenesysAuthError,
    GenesysConnectionError,
    OutcomeUnknownError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
)

from .fakes import CID, CODE, PID, SECRET, TOKEN, FakeClock, FakeSession, error_body, make_client, response, token_response

OK = response(200, {"id": CID})


def err(status: int, code: str = "x", **headers: str) -> requests.Response:
    return response(status, error_body(status, code), headers=headers)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_reads_are_retried_on_server_errors(status: int) -> None:
    session = FakeSession(err(status), err(status), OK)
    client = make_client(session)
    assert client.get_conversation(CID).id == CID
    assert len(session.calls) == 3 and client.stats.retries == 2


def test_backoff_is_exponential_capped_and_jittered() -> None:
    clock = FakeClock()
    session = FakeSession(*[err(503)] * 5)
    with pytest.raises(ServerError):
        make_client(session, clock).get_conversation(CID)
    assert len(session.calls) == 5  # max_attempts, then the error surfaces
    # rng fixed at 0.5: delay = ceiling * 0.75 with ceilings 0.5, 1, 2, 4 (cap 8)
    assert clock.sleeps == [0.375, 0.75, 1.5, 3.0]
    clock2 = FakeClock()
    session2 = FakeSession(*[err(503)] * 8)
    with pytest.raises(ServerError):
        make_client(session2, clock2, retry=RetryPolicy(max_attempts=8, backoff_cap=2.0)).get_conversation(CID)
    assert max(clock2.sleeps) == 1.5  # capped at 2.0, jittered into [1.0, 2.0]


def test_429_waits_retry_after() -> None:
    clock = FakeClock()
    session = FakeSession(err(429, "too.many.requests", **{"Retry-After": "7"}), OK)
    client = make_client(session, clock)
    client.get_conversation(CID)
    assert clock.sleeps[0] == pytest.approx(7.05)
    assert client.stats.rate_limited == 1 and len(session.calls) == 2


def test_429_without_retry_after_uses_reset_then_three_seconds() -> None:
    clock = FakeClock()
    session = FakeSession(err(429, **{"inin-ratelimit-reset": "4"}), err(429), OK)
    make_client(session, clock).get_conversation(CID)
    assert clock.sleeps[:2] == [pytest.approx(4.05), pytest.approx(3.05)]


def test_connection_errors_are_retried_for_reads() -> None:
    session = FakeSession(requests.ConnectionError("reset by peer"), requests.ReadTimeout("slow"), OK)
    assert make_client(session).get_conversation(CID).id == CID
    assert len(session.calls) == 3


def test_connection_error_surfaces_typed_after_the_attempts() -> None:
    session = FakeSession(*[requests.ConnectTimeout("no route")] * 5)
    with pytest.raises(GenesysConnectionError) as caught:
        make_client(session).get_conversation(CID)
    assert not isinstance(caught.value, OutcomeUnknownError) and "api.example.test" in str(caught.value)


@pytest.mark.parametrize("status", [400, 403, 404, 409])
def test_client_errors_are_not_retried(status: int) -> None:
    session = FakeSession(err(status))
    with pytest.raises(Exception):
        make_client(session).get_conversation(CID)
    assert len(session.calls) == 1


def test_analytics_query_is_a_read_and_is_retried() -> None:
    session = FakeSession(err(502), response(200, {"conversations": []}))
    make_client(session).query_conversation_details({"interval": "2026-05-01T00:00:00Z/2026-05-02T00:00:00Z"})
    assert [c[0] for c in session.calls] == ["POST", "POST"]


# --- writes -------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("headers", "waited"), [({"Retry-After": "7", "inin-ratelimit-reset": "30"}, 7.0), ({"inin-ratelimit-reset": "4"}, 4.0)]
)
def test_write_answered_429_waits_and_is_sent_again(headers: dict[str, str], waited: float) -> None:
    clock = FakeClock()
    session = FakeSession(err(429, "too.many.requests", **headers), response(202))
    client = make_client(session, clock)
    client.set_participant_wrapup(CID, PID, code_id=CODE)  # a 429 was not applied: safe to send again
    assert [c[0] for c in session.calls] == ["PATCH", "PATCH"]
    assert session.calls[0][2]["json"] == session.calls[1][2]["json"] == {"wrapup": {"code": CODE}}
    assert clock.sleeps == [pytest.approx(waited + 0.05)]  # the wait it asked for, plus jitter (rng 0.5)
    assert client.stats.rate_limited == 1 and client.stats.retries == 1


def test_write_rate_limited_every_time_gives_up_after_max_attempts_and_max_wait() -> None:
    clock = FakeClock()
    session = FakeSession(*[err(429, "too.many.requests", **{"Retry-After": "600"})] * 3, response(202))
    client = make_client(session, clock, retry=RetryPolicy(max_attempts=3, max_retry_after=10.0))
    with pytest.raises(RateLimitedError) as caught:
        client.set_participant_wrapup(CID, PID, code_id=CODE)
    assert len(session.calls) == 3 and caught.value.retry_after == 10.0
    assert clock.sleeps == [pytest.approx(10.05)] * 2  # capped at max_retry_after, not the 600 s asked


@pytest.mark.parametrize(
    ("answer", "raised"),
    [
        (err(500), ServerError),
        (err(502), ServerError),
        (err(503), ServerError),
        (requests.ReadTimeout("read timed out"), OutcomeUnknownError),
        (requests.ConnectionError("('Connection aborted.', RemoteDisconnected('closed'))"), OutcomeUnknownError),
    ],
)
def test_write_with_an_unknown_outcome_is_sent_once(answer: object, raised: type[Exception]) -> None:
    clock = FakeClock()
    session = FakeSession(answer, response(202))
    client = make_client(session, clock)
    with pytest.raises(raised) as caught:
        client.set_participant_wrapup(CID, PID, code_id=CODE)
    assert type(caught.value) is raised
    assert len(session.calls) == 1 and client.stats.retries == 0 and clock.sleeps == []  # nothing re-sent
    if raised is OutcomeUnknownError:
        assert "read the state back" in str(caught.value)


@pytest.mark.parametrize(
    "never_sent",
    [
        requests.ConnectionError("HTTPConnectionPool: Max retries (Caused by NewConnectionError('Connection refused'))"),
        requests.ConnectTimeout("connect timed out"),
    ],
)
def test_write_whose_connection_failed_before_sending_is_sent_again(never_sent: Exception) -> None:
    session = FakeSession(never_sent, response(202))
    make_client(session).set_participant_wrapup(CID, PID, code_id=CODE)
    assert [c[0] for c in session.calls] == ["PATCH", "PATCH"]


def test_write_refused_every_time_surfaces_as_a_connection_error() -> None:
    refused = requests.ConnectionError("HTTPConnectionPool: Max retries (Caused by NewConnectionError('Connection refused'))")
    session = FakeSession(*[refused] * 5)
    with pytest.raises(GenesysConnectionError) as caught:
        make_client(session).set_participant_wrapup(CID, PID, code_id=CODE)
    assert not isinstance(caught.value, OutcomeUnknownError) and len(session.calls) == 5


def test_write_gets_one_new_token_after_401() -> None:
    session = FakeSession(err(401, "bad.credentials"), response(202))
    client = make_client(session)
    client.set_participant_wrapup(CID, PID, code_id=CODE)
    assert len(session.calls) == 2 and len(session.token_calls) == 2
    assert session.calls[0][2]["headers"]["Authorization"] != session.calls[1][2]["headers"]["Authorization"]


# --- authentication -----------------------------------------------------------------------------

def test_one_reauthentication_then_the_401_surfaces() -> None:
    session = FakeSession(err(401, "bad.credentials"), err(401, "bad.credentials"), OK)
    client = make_client(session)
    with pytest.raises(GenesysAuthError):
        client.get_conversation(CID)
    assert len(session.calls) == 2 and len(session.token_calls) == 2 and client.stats.reauthentications == 1


def test_token_is_reused_and_renewed_at_ninety_percent() -> None:
    clock = FakeClock()
    session = FakeSession(OK, OK, OK, tokens=[token_response("t1", 100), token_response("t2", 100)])
    client = make_client(session, clock)
    client.get_conversation(CID)
    clock.now += 89
    client.get_conversation(CID)
    clock.now += 2  # 91 s: past 90 % of 100
    client.get_conversation(CID)
    assert [c[2]["headers"]["Authorization"] for c in session.calls] == ["Bearer t1", "Bearer t1", "Bearer t2"]


def test_token_request_shape() -> None:
    session = FakeSession(OK)
    make_client(session).get_conversation(CID)
    call = session.token_calls[0]
    assert call["data"] == {"grant_type": "client_credentials"} and call["auth"] == ("portal-client", SECRET)
    assert call["timeout"] == (5.0, 10.0)


def test_threads_share_one_token() -> None:
    gate = threading.Event()

    def slow_token(*_: object) -> requests.Response:
        gate.wait(1)
        return token_response("shared")

    session = FakeSession(handler=lambda *_: response(200, {"id": CID}))
    session.post = lambda url, **kw: (session.token_calls.append(kw), slow_token())[1]  # type: ignore[method-assign]
    client = make_client(session)
    threads = [threading.Thread(target=client.get_conversation, args=(CID,)) for _ in range(8)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join()
    assert len(session.token_calls) == 1 and len(session.calls) == 8


@pytest.mark.parametrize("status", [400, 401])
def test_bad_client_credentials_are_a_configuration_error_not_retried(status: int) -> None:
    body = {"error": "invalid_client", "description": "client not found"}
    session = FakeSession(tokens=[response(status, body), token_response()])
    with pytest.raises(BadClientCredentialsError) as caught:
        make_client(session).get_conversation(CID)
    assert len(session.token_calls) == 1 and session.calls == []
    assert SECRET not in str(caught.value) and "invalid_client" in str(caught.value)


def test_token_endpoint_is_retried_on_503_and_429() -> None:
    session = FakeSession(OK, tokens=[err(503), err(429, **{"Retry-After": "1"}), token_response()])
    make_client(session).get_conversation(CID)
    assert len(session.token_calls) == 3


def test_token_answer_without_access_token_is_typed() -> None:
    from integrations.genesys import InvalidResponseError

    session = FakeSession(tokens=[response(200, {"token_type": "bearer"})])
    with pytest.raises(InvalidResponseError):
        make_client(session).get_conversation(CID)


# --- secrets ------------------------------------------------------------------------------------

def test_secrets_and_tokens_never_in_logs_or_messages(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="integrations.genesys")
    echo = error_body(400, "bad.request", f"you sent Bearer {TOKEN}-1 and {SECRET}")
    session = FakeSession(err(503), echo and response(400, echo), tokens=None)
    client = make_client(session)
    with pytest.raises(Exception) as caught:
        client.get_conversation(CID)
    text = caplog.text + str(caught.value) + repr(caught.value) + repr(client)
    assert TOKEN not in text and SECRET not in text
    assert "'Authorization': '***'" in caplog.text  # headers are logged, masked
    assert client._http.tokens._token is not None and TOKEN not in repr(client._http.tokens._token)


def test_with_retry_shares_the_token_but_not_the_policy() -> None:
    session = FakeSession(OK, err(503), err(503), OK)
    client = make_client(session)
    client.get_conversation(CID)
    fast = client.with_retry(RetryPolicy(max_attempts=1))
    with pytest.raises(ServerError):
        fast.get_conversation(CID)
    client.get_conversation(CID)  # the original still retries
    assert len(session.token_calls) == 1 and len(session.calls) == 4


def test_with_retry_fetches_the_token_under_its_own_policy() -> None:
    session = FakeSession(OK, tokens=[err(503), err(503), token_response()])
    fast = make_client(session).with_retry(RetryPolicy(max_attempts=1))
    with pytest.raises(ServerError):
        fast.get_conversation(CID)
    assert len(session.token_calls) == 1 and session.calls == []  # no retry of the token request
