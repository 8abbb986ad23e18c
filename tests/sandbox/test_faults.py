"""Quota, injected errors, latency, dropped connections, headers on every answer, control endpoint."""

from __future__ import annotations

import json
import time

import pytest
import requests

from .helpers import assert_error

pytestmark = pytest.mark.integration
CODES = "/api/v2/routing/wrapupcodes"


def test_every_answer_carries_correlation_and_rate_limit_headers(sandbox):
    token = sandbox.token()
    answers = [sandbox.api("GET", CODES, token=token), sandbox.api("GET", "/api/v2/nothing", token=token),
               sandbox.api("GET", CODES, token="bad"), sandbox.api("GET", "/api/v2/routing/queues/x", token=token)]
    correlation = set()
    for response in answers:
        assert response.headers["ININ-Correlation-Id"]
        assert {"inin-ratelimit-count", "inin-ratelimit-allowed", "inin-ratelimit-reset"} <= set(response.headers)
        correlation.add(response.headers["ININ-Correlation-Id"])
    assert len(correlation) == len(answers)
    assert [r.headers["inin-ratelimit-count"] for r in answers if r.status_code != 401] == ["1", "2", "3"]


def test_quota_per_token_gives_429_with_retry_after(sandbox):
    sandbox.configure(rate_limit=3, rate_window_seconds=60)
    token = sandbox.token()
    for n in range(1, 4):
        response = sandbox.api("GET", CODES, token=token)
        assert response.status_code == 200 and response.headers["inin-ratelimit-count"] == str(n)
    limited = sandbox.api("GET", CODES, token=token)
    body = assert_error(limited, 429, "too.many.requests")
    retry = int(limited.headers["Retry-After"])
    assert 1 <= retry <= 60 and limited.headers["inin-ratelimit-reset"] == str(retry)
    assert limited.headers["inin-ratelimit-count"] == "4" and limited.headers["inin-ratelimit-allowed"] == "3"
    assert body["message"] == f"Rate limit exceeded the maximum. Retry the request in [{retry}] seconds"
    assert body["limit"] == {"key": "client.credentials.token.rate.per.minute", "namespace": "platform.api", "value": 3}
    assert sandbox.api("GET", CODES).status_code == 200  # another token has its own quota
    assert sandbox.stats()["rate_limited"] == 1
    sandbox.clock(advance_seconds=retry)
    assert sandbox.api("GET", CODES, token=token).status_code == 200  # a new window


def test_injected_errors_replace_answers(sandbox):
    token = sandbox.token()
    sandbox.configure(error_rate=1.0)
    statuses = set()
    for _ in range(30):
        response = sandbox.api("GET", CODES, token=token)
        body = response.json()
        assert response.status_code in (500, 502, 503) and body["status"] == response.status_code
        assert body["contextId"] == response.headers["ININ-Correlation-Id"]
        statuses.add(response.status_code)
    assert statuses == {500, 502, 503}
    assert sandbox.stats()["injected_errors"] == 30


def test_error_rate_is_a_fraction(sandbox):
    token = sandbox.token()
    sandbox.configure(error_rate=0.5)
    results = [sandbox.api("GET", CODES, token=token).status_code for _ in range(80)]
    failures = sum(1 for s in results if s >= 500)
    assert 20 <= failures <= 60 and results.count(200) == 80 - failures


def test_injected_error_does_not_apply_the_write(sandbox):
    org = sandbox.org()
    queue = org["queues"][0]
    conv = sandbox.create_conversation(queueId=queue["id"], state="acw")
    pid = next(p["id"] for p in conv["participants"] if p["purpose"] == "agent")
    token = sandbox.token()
    sandbox.configure(error_rate=1.0)
    response = sandbox.api("PATCH", f"/api/v2/conversations/{conv['id']}/participants/{pid}", token=token,
                           json={"wrapup": {"code": queue["codeIds"][0]}})
    assert response.status_code >= 500
    sandbox.configure(error_rate=0.0)
    got = sandbox.api("GET", f"/api/v2/conversations/{conv['id']}", token=token).json()
    assert "wrapup" not in next(p for p in got["participants"] if p["id"] == pid)


def test_latency_is_added(sandbox):
    token = sandbox.token()
    sandbox.configure(latency_ms=200)
    started = time.monotonic()
    assert sandbox.api("GET", CODES, token=token).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_dropped_connections_get_no_answer(sandbox):
    token = sandbox.token()
    sandbox.configure(drop_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{sandbox.url}{CODES}", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    sandbox.configure(drop_rate=0.0)
    assert sandbox.api("GET", CODES, token=token).status_code == 200
    assert sandbox.stats()["dropped"] == 1


def test_request_log_and_counters(sandbox):
    token = sandbox.token()
    sandbox.api("GET", CODES + "?pageSize=5", token=token)
    sandbox.api("GET", "/api/v2/conversations/nope", token=token)
    log = sandbox.requests()
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("POST", "/oauth/token", 200), ("GET", CODES + "?pageSize=5", 200), ("GET", "/api/v2/conversations/nope", 404)]
    assert log[1]["token"] and log[1]["token"] == log[2]["token"] and log[0]["token"] is None
    assert log[1]["time"].endswith("Z") and log[1]["correlationId"]
    assert token not in json.dumps(log) and sandbox.client_secret not in json.dumps(log)
    assert sandbox.requests(limit=1) == log[-1:]
    assert sandbox.stats()["requests"] == 3


def test_config_endpoint_validates_and_reset_restores(sandbox):
    assert sandbox.config()["rate_limit"] == 300
    changed = sandbox.configure(rate_limit=10, write_window="always", refusal=409)
    assert (changed["rate_limit"], changed["write_window"], changed["refusal"]) == (10, "always", 409)
    for bad in ({"no_such_knob": 1}, {"refusal": 401}, {"error_rate": 2}, {"write_window": "never"},
                {"silent_noop": "maybe"}, {"rate_limit": "many"}):
        response = requests.post(f"{sandbox.url}/__sandbox/config", json=bad)
        assert response.status_code == 400, bad
    assert sandbox.config()["rate_limit"] == 10  # a refused change changes nothing
    sandbox.reset()
    assert sandbox.config()["rate_limit"] == 300 and sandbox.config()["write_window"] == "acw_only"
    assert sandbox.stats()["requests"] == 0 and sandbox.requests() == []


def test_reset_with_state_rebuilds_the_same_org(sandbox):
    before = sandbox.org()
    made = sandbox.create_conversation(state="acw")
    sandbox.reset(state=True)
    after = sandbox.org()
    assert [q["id"] for q in after["queues"]] == [q["id"] for q in before["queues"]]
    assert sandbox.api("GET", f"/api/v2/conversations/{made['id']}").status_code == 404


def test_control_endpoint_needs_no_auth_and_is_not_rate_limited(sandbox):
    sandbox.configure(rate_limit=1)
    for _ in range(5):
        assert requests.get(f"{sandbox.url}/__sandbox/stats").status_code == 200
    assert sandbox.stats()["requests"] == 0
