"""The event hook under a flood: per source address rate limiting (429 with Retry-After, other
senders unaffected), refusals audited once per address and minute and counted beyond, bodies
refused early; and the sign-in lockout, the other door a flood knocks on."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client, RequestFactory

from tests.assignments.test_events import SECRET, URL, payload, post, rejections, topic
from tests.conftest import PASSWORD
from wrapup_portal.assignments import events, services
from wrapup_portal.assignments.models import ConversationEvent
from wrapup_portal.audit.models import Action, AuditEvent

pytestmark = pytest.mark.django_db

FLOODER, NEIGHBOUR = "203.0.113.7", "198.51.100.20"


@pytest.fixture
def limited(settings, monkeypatch) -> list[int]:
    """The hook with a secret and a small per-address limit; returns the event ids it queued."""
    settings.WRAPUP_WEBHOOK_SECRET = SECRET
    settings.WRAPUP_WEBHOOK_RATE_PER_MINUTE = 5
    queued: list[int] = []
    monkeypatch.setattr(events, "event_enqueue", lambda pk: queued.append(pk))
    monkeypatch.setattr(services, "assignment_enqueue", lambda ids: None)
    monkeypatch.setattr(events.time, "time", lambda: 6000.0)  # the start of a window: the test never crosses it
    return queued


def from_(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def deliver(client: Client, **kwargs: Any):
    body = payload()
    return post(client, body, topic_header=topic(body), **kwargs)


def test_one_flooding_address_is_limited_and_others_are_not(limited: list[int], django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        flood = [deliver(from_(FLOODER)) for _ in range(8)]
        neighbour = [deliver(from_(NEIGHBOUR)) for _ in range(5)]

    assert [r.status_code for r in flood] == [202] * 5 + [429] * 3
    assert flood[-1]["Retry-After"] == "60" and "Too many deliveries from this address" in flood[-1].json()["error"]
    assert [r.status_code for r in neighbour] == [202] * 5
    assert ConversationEvent.objects.count() == len(limited) == 10  # the refused ones stored and queued nothing


def test_the_limit_counts_bad_deliveries_too_and_comes_before_the_secret(limited: list[int]) -> None:
    answers = [post(from_(FLOODER), b"not json", secret="wrong").status_code for _ in range(7)]

    assert answers == [401] * 5 + [429] * 2
    assert rejections() == 1  # and only the first refusal was audited
    assert deliver(from_(NEIGHBOUR)).status_code == 202


def test_the_window_moves_on(settings) -> None:
    settings.WRAPUP_WEBHOOK_RATE_PER_MINUTE = 2
    for _ in range(2):
        events.webhook_rate_check(source=FLOODER, now=120.0)
    with pytest.raises(events.EventRejected) as refused:
        events.webhook_rate_check(source=FLOODER, now=150.0)
    assert refused.value.status == 429 and refused.value.retry_after == 30
    events.webhook_rate_check(source=FLOODER, now=180.0)  # the next minute: allowed again


def test_no_limit_when_set_to_zero(settings) -> None:
    settings.WRAPUP_WEBHOOK_RATE_PER_MINUTE = 0
    for _ in range(50):
        events.webhook_rate_check(source=FLOODER, now=1.0)


def test_refusals_are_audited_once_per_address_and_minute_and_the_rest_counted(settings, rf) -> None:
    settings.WRAPUP_WEBHOOK_SECRET = SECRET
    settings.WRAPUP_WEBHOOK_RATE_PER_MINUTE = 0
    request = rf.post(URL, REMOTE_ADDR=FLOODER)
    audited = [events.webhook_rejected_record(request=request, reason="wrong", now=600.0 + i / 10) for i in range(40)]
    other = events.webhook_rejected_record(request=rf.post(URL, REMOTE_ADDR=NEIGHBOUR), reason="wrong", now=601.0)

    assert audited.count(True) == 1 and audited[0] and other
    assert rejections() == 2 and events.webhook_refusals_unaudited() == 39

    assert events.webhook_rejected_record(request=request, reason="wrong", now=660.0)  # the next minute
    latest = AuditEvent.objects.filter(action=Action.WEBHOOK_REJECTED, source_ip=FLOODER).order_by("-sequence").first()
    assert latest.extra == {"unaudited_before": 39}  # no gap: the count says what was not written
    assert not events.webhook_rejected_record(request=request, reason="wrong", now=661.0)


def test_a_flood_of_wrong_secrets_writes_one_audit_event(settings) -> None:
    settings.WRAPUP_WEBHOOK_SECRET = SECRET
    settings.WRAPUP_WEBHOOK_RATE_PER_MINUTE = 0
    before = AuditEvent.objects.count()
    answers = {deliver(from_(FLOODER), secret="wrong").status_code for _ in range(100)}
    assert answers == {401} and AuditEvent.objects.count() - before <= 2  # 1, or 2 if a minute boundary passed


@pytest.mark.parametrize("size", [events.MAX_BODY + 1, 10 * events.MAX_BODY])
def test_an_oversized_body_is_refused_before_it_is_read(limited: list[int], size: int) -> None:
    body = payload()
    raw = json.dumps({**body, "pad": "x" * size}).encode()
    response = post(from_(NEIGHBOUR), raw, topic_header=topic(body))
    assert response.status_code == 400 and response.json() == {"error": events.TOO_LARGE}
    assert not ConversationEvent.objects.exists() and limited == []


def test_a_body_larger_than_it_declares_is_cut_at_the_limit(limited: list[int]) -> None:
    class Lying:
        """A body whose Content-Length says small while it goes on and on."""

        def __init__(self) -> None:
            self.sent = 0

        def read(self, size: int = -1) -> bytes:
            size = 1 << 20 if size < 0 else size
            self.sent += size
            return b" " * size

    request = RequestFactory().post(URL, b"{}", content_type="application/json")
    request.META["CONTENT_LENGTH"] = "2"
    request._stream = stream = Lying()  # type: ignore[attr-defined]
    with pytest.raises(events.EventRejected):
        events.event_body_read(request)
    assert stream.sent <= events.MAX_BODY + 1


# --- the sign-in door ---------------------------------------------------------------------------------------
def test_the_sign_in_lockout_still_locks_after_the_limit_and_not_another_address(make_user, settings) -> None:
    make_user("lead", "Team lead")
    client = Client(REMOTE_ADDR=FLOODER)
    answers = [client.post("/accounts/login/", {"username": "lead", "password": f"wrong {i}"}).status_code
               for i in range(settings.AXES_FAILURE_LIMIT)]  # fmt: skip
    locked = client.post("/accounts/login/", {"username": "lead", "password": PASSWORD})

    assert answers[:-1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert locked.status_code == 429  # even the right password: locked
    assert AuditEvent.objects.filter(action=Action.LOCKOUT).exists()
    elsewhere = Client(REMOTE_ADDR=NEIGHBOUR).post("/accounts/login/", {"username": "lead", "password": PASSWORD})
    assert elsewhere.status_code == 302  # the pair username+address is locked, not the account
