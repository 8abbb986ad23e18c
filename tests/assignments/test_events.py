"""The rules' event path (POST /hooks/genesys/events) and the polling safety net."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as fuzz_settings
from hypothesis import strategies as st
from django.utils import timezone
from django_q.models import Schedule

from integrations.genesys import GenesysConfigurationError
from wrapup_portal.assignments import event_processing, events, poller, services, tasks
from wrapup_portal.assignments.models import Assignment, ConversationEvent, EventOutcome, Rule, Source, State
from wrapup_portal.assignments.services import Requester, assignment_request
from wrapup_portal.audit.models import Action, AuditEvent
from wrapup_portal.catalog.models import CodeGroup, WrapupCode
from wrapup_portal.core.genesys import build_genesys_client
from wrapup_portal.core.management.commands.run_portal import hook_url

URL = "/hooks/genesys/events"
SECRET = "s3cret-hook"
POLL_SCHEDULE = "assignments: poll for legs in after-call work the events missed"  # migration 0004


@pytest.fixture
def hook(settings, db) -> Client:
    settings.WRAPUP_WEBHOOK_SECRET = SECRET
    return Client()


@pytest.fixture(autouse=True)
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Event ids the hook queued; tests run the task themselves, nothing goes to a cluster."""
    ids: list[int] = []
    monkeypatch.setattr(events, "event_enqueue", lambda pk: ids.append(pk))
    monkeypatch.setattr(poller, "event_enqueue", lambda pk: ids.append(pk))
    monkeypatch.setattr(services, "assignment_enqueue", lambda ids: None)
    return ids


def payload(cid: str | None = None, pid: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"eventTime": 1777817325000, "conversationId": cid or str(uuid.uuid4()),
            "participantId": pid or str(uuid.uuid4()), "userId": str(uuid.uuid4()), "queueId": str(uuid.uuid4()),
            "mediaType": "VOICE", "direction": "INBOUND", **extra}  # fmt: skip


def topic(body: dict[str, Any], suffix: str = "user.end") -> str:
    return f"v2.detail.events.conversation.{body['conversationId']}.{suffix}"


def envelope(body: dict[str, Any], suffix: str = "user.end") -> dict[str, Any]:
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": topic(body, suffix), "source": "aws.partner/genesys.com",
            "detail": {"topicName": topic(body, suffix), "version": "2", "eventBody": body, "metadata": {}}}  # fmt: skip


def post(client: Client, data: Any, *, secret: str | None = SECRET, topic_header: str | None = None):
    headers = {}
    if secret is not None:
        headers["X-Wrapup-Webhook-Secret"] = secret
    if topic_header is not None:
        headers["X-Wrapup-Event-Topic"] = topic_header
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return client.post(URL, raw, content_type="application/json", headers=headers)


def rejections() -> int:
    return AuditEvent.objects.filter(action=Action.WEBHOOK_REJECTED).count()


# --- the hook -------------------------------------------------------------------------------------
@pytest.mark.parametrize("secret", [None, "", "wrong", "s3cret-hoo", "s3cret-hook-", "ünïcode"])
def test_a_missing_or_wrong_secret_is_refused_audited_and_stores_nothing(hook, queued, secret) -> None:
    body = payload()
    response = post(hook, body, secret=secret, topic_header=topic(body))
    assert response.status_code == 401
    assert rejections() == 1
    event = AuditEvent.objects.get(action=Action.WEBHOOK_REJECTED)
    assert event.actor_kind == "system" and "X-Wrapup-Webhook-Secret" in event.reason
    assert not ConversationEvent.objects.exists() and not Assignment.objects.exists() and queued == []


def test_without_a_configured_secret_the_hook_refuses_everything(settings, db, queued) -> None:
    settings.WRAPUP_WEBHOOK_SECRET = ""
    body = payload()
    for secret in (None, "", "anything"):
        response = post(Client(), body, secret=secret, topic_header=topic(body))
        assert response.status_code == 401 and "WRAPUP_WEBHOOK_SECRET" in response.json()["error"]
    # One address, one minute: the first refusal is audited, the others counted (test_hook_limits.py).
    assert rejections() == 1 and events.webhook_refusals_unaudited() == 2
    assert not ConversationEvent.objects.exists() and queued == []


def test_bare_and_eventbridge_forms_are_accepted_and_the_same_event_is_stored_once(hook, queued,
                                                                                 django_capture_on_commit_callbacks) -> None:  # fmt: skip
    body = payload()
    with django_capture_on_commit_callbacks(execute=True):
        first = post(hook, body, topic_header=topic(body))
        again = post(hook, body, topic_header=topic(body))
        bridged = post(hook, envelope(body))  # the same event through EventBridge (no topic header)
    assert (first.status_code, again.status_code, bridged.status_code) == (202, 202, 202)
    assert first.json()["status"] == "stored" and again.json()["status"] == bridged.json()["status"] == "duplicate"
    row = ConversationEvent.objects.get()
    assert (row.kind, row.conversation_id, row.participant_id, row.via) == ("user.end", body["conversationId"],
                                                                           body["participantId"], "hook")  # fmt: skip
    assert row.user_id == body["userId"] and row.processed_at is None and queued == [row.pk]

    other = payload()
    with django_capture_on_commit_callbacks(execute=True):
        assert post(hook, envelope(other, "acw")).status_code == 202
    idle = ConversationEvent.objects.get(conversation_id=other["conversationId"])
    # ACW over with nothing waiting for the leg: stored as done, no task.
    assert (idle.kind, idle.outcome) == ("acw", EventOutcome.NOTHING) and idle.processed_at is not None
    assert len(queued) == 1


@pytest.mark.parametrize("raw, header, reason", [
    (b"{not json", "topic", events.NOT_JSON),
    (b"\xff\xfe\x00garbage", "topic", events.NOT_JSON),
    (b"[1, 2, 3]", "topic", events.NOT_OBJECT),
    (b"", "topic", events.NOT_JSON),
    ("payload", None, events.NO_TOPIC),
    ("payload", "v2.detail.events.conversation.{cid}.customer.end", events.UNKNOWN_TOPIC),
    ("payload", "v2.users.{cid}.conversations", events.UNKNOWN_TOPIC),
    ("payload", "v2.detail.events.conversation.0ae82ce3-5c8e-4865-82d4-caa2a4e6a1de.acw", events.TOPIC_MISMATCH),
    ("bad id", "topic", events.BAD_ID.format(name="participantId")),
    ("oversized", "topic", events.TOO_LARGE),
])  # fmt: skip
def test_bad_deliveries_get_400_with_a_short_reason_and_nothing_is_stored(hook, queued, raw, header, reason) -> None:
    body = payload()
    if raw == "payload":
        raw = json.dumps(body).encode()
    elif raw == "bad id":
        raw = json.dumps({**body, "participantId": "not-a-uuid"}).encode()
    elif raw == "oversized":
        raw = json.dumps({**body, "subject": "x" * (events.MAX_BODY + 10)}).encode()
    header = topic(body) if header == "topic" else header and header.format(cid=body["conversationId"])
    response = post(hook, raw, topic_header=header)
    assert response.status_code == 400
    assert response.json() == {"error": reason}
    assert not ConversationEvent.objects.exists() and queued == [] and rejections() == 0


def test_only_post_is_allowed(hook) -> None:
    assert hook.get(URL).status_code == 405
    assert not ConversationEvent.objects.exists()


def test_a_flood_for_one_conversation_is_bounded_dropped_and_counted(hook, queued, django_capture_on_commit_callbacks) -> None:
    cid = str(uuid.uuid4())
    with django_capture_on_commit_callbacks(execute=True):
        answers = [post(hook, body, topic_header=topic(body)).status_code
                   for body in (payload(cid) for _ in range(events.MAX_PENDING_PER_CONVERSATION + 5))]  # fmt: skip
    assert answers.count(202) == events.MAX_PENDING_PER_CONVERSATION and answers.count(429) == 5
    assert ConversationEvent.objects.filter(conversation_id=cid).count() == events.MAX_PENDING_PER_CONVERSATION
    assert events.events_dropped() == 5
    body = payload()  # another conversation is not held up
    assert post(hook, body, topic_header=topic(body)).status_code == 202


def test_fuzzed_bodies_never_crash_the_hook(hook, queued) -> None:
    """500 random bodies: raw bytes, and valid events with fields cut, swapped or mistyped."""
    rng = random.Random(14)
    values: list[Any] = [None, True, 0, -1, 1e308, "", "x" * 300, [], {}, [{}], str(uuid.uuid4()), "ü\x00", {"a": [1]}]
    for index in range(500):
        body = payload()
        header: str | None = topic(body)
        if index % 3 == 0:
            raw = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 400)))
        elif index % 3 == 1:
            for key in rng.sample(sorted(body), rng.randrange(1, 4)):
                body[key] = rng.choice(values)
            raw = json.dumps(envelope(body) if rng.random() < 0.5 else body, default=str).encode()
            header = rng.choice([header, None, "", "v2.detail.events.conversation..acw", "x" * 500])
        else:
            text = json.dumps(envelope(body))
            cut = rng.randrange(len(text))
            raw = (text[:cut] + rng.choice(["", "}", "]", '"', "\\u0000", "{" * 50]) + text[cut + 1:]).encode()
        response = post(hook, raw, topic_header=header)
        assert response.status_code in (202, 400), (index, raw[:200], response.content)
        if response.status_code == 400:
            assert set(response.json()) == {"error"}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
TOPICS = st.none() | st.text(max_size=80) | st.builds(
    lambda cid, kind: f"v2.detail.events.conversation.{cid}.{kind}",
    st.uuids().map(str) | st.text(max_size=40), st.sampled_from(["user.end", "acw", "customer.end", ""]),
)


@fuzz_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=600) | JSON.map(lambda v: json.dumps(v).encode())
       | st.builds(lambda b, e: json.dumps(envelope(b) if e else b).encode(),
                   st.fixed_dictionaries({"conversationId": st.uuids().map(str) | JSON,
                                          "participantId": st.uuids().map(str) | JSON}, optional={"userId": JSON}),
                   st.booleans()),
       header=TOPICS)  # fmt: skip
def test_hypothesis_fuzz_never_crashes_the_hook(hook, queued, body: bytes, header: str | None) -> None:
    """Shrinking fuzz (hypothesis): bytes, any JSON, and events with any field values, any topic header.

    No partial write: a refused body stores no row and queues nothing; an accepted one stores at most one
    row and queues at most its own task. The hook writes no audit event for a body it refuses.
    """
    rows, tasks, audited = ConversationEvent.objects.count(), len(queued), AuditEvent.objects.count()
    response = post(hook, body, topic_header=header)
    assert response.status_code in (202, 400, 429), (body[:200], header, response.content)
    grown = ConversationEvent.objects.count() - rows
    if response.status_code == 202:
        assert grown in (0, 1) and response.json()["status"] == ("stored" if grown else "duplicate")
    else:
        assert set(response.json()) == {"error"} and grown == 0 and len(queued) == tasks
    assert AuditEvent.objects.count() == audited


# --- processing, against the sandbox -------------------------------------------------------------------
@pytest.fixture
def ruled(catalog: Any, settings) -> Iterator[Any]:
    """An enabled rule for a queue without an ACW time-out; conversations made are ended afterwards."""
    settings.WRAPUP_WEBHOOK_SECRET = SECRET
    sandbox = catalog
    queue = next(q for q in sandbox.org()["queues"] if q["wrapupPrompt"] == "MANDATORY")
    code = WrapupCode.objects.get(code_id=queue["codeIds"][0])
    rule = Rule.objects.create(name="Billing default", queue=CodeGroup.objects.get(queue_id=queue["id"]), code=code,
                               notes_template="auto: {rule} on {queue}")  # fmt: skip
    made: list[str] = []

    def make(state: str = "acw") -> tuple[str, str]:
        conversation = sandbox.create_conversation(queueId=queue["id"], state=state)
        made.append(conversation["id"])
        agent = next(p for p in conversation["participants"] if p["purpose"] == "agent")
        return conversation["id"], agent["id"]

    make.sandbox, make.queue, make.rule, make.code = sandbox, queue, rule, code  # type: ignore[attr-defined]
    yield make
    sandbox.reset()
    for cid in made:
        sandbox.advance(cid, to="ended")


def emitted(sandbox: Any, cid: str, suffix: str) -> dict[str, Any]:
    return next(e for e in sandbox.events() if e["topic"] == f"v2.detail.events.conversation.{cid}.{suffix}")


def carried(sandbox: Any, cid: str, pid: str) -> str | None:
    wrapup = sandbox.api("GET", f"/api/v2/conversations/{cid}/participants/{pid}/wrapup").json()
    return (wrapup or {}).get("code")


def writes(sandbox: Any, cid: str, pid: str) -> int:
    return sandbox.stats()["writes"].get(f"{cid}/{pid}", 0)


def deliver(client: Client, event: dict[str, Any], *, bridged: bool = False):
    suffix = "user.end" if event["topic"].endswith(".user.end") else "acw"
    body = envelope(event["payload"], suffix) if bridged else event["payload"]
    return post(client, body, topic_header=None if bridged else event["topic"])


@pytest.mark.integration
def test_a_user_end_event_codes_the_leg_by_the_rule_once(ruled, queued, django_capture_on_commit_callbacks) -> None:
    sandbox, client = ruled.sandbox, Client()
    cid, pid = ruled("connected")
    sandbox.advance(cid)  # connected -> ACW: the sandbox emits user.end
    event = emitted(sandbox, cid, "user.end")
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, event).status_code == 202
        assert deliver(client, event, bridged=True).json()["status"] == "duplicate"  # redelivered via EventBridge
    for pk in queued + queued:  # django-q2 may run a task twice
        tasks.events_process_task(pk)

    assert carried(sandbox, cid, pid) == ruled.code.code_id and writes(sandbox, cid, pid) == 1
    assignment = Assignment.objects.get()
    assert (assignment.source, assignment.rule, assignment.state) == (Source.RULE, ruled.rule, State.APPLIED)
    assert assignment.notes == f"auto: Billing default on {ruled.rule.queue.name}"
    assert assignment.requested_by_name == "Billing default"
    row = ConversationEvent.objects.get()
    assert row.outcome == EventOutcome.ASSIGNED and row.assignment == assignment and row.tries == 1
    audit = AuditEvent.objects.filter(target_kind="assignment", target_id=str(assignment.pk))
    assert set(audit.values_list("actor_kind", flat=True)) >= {"rule"}

    # The poller finds nothing left to do for it.
    poller.legs_poll(client=build_genesys_client())
    assert ConversationEvent.objects.filter(conversation_id=cid).count() == 1 and len(set(queued)) == 1
    assert writes(sandbox, cid, pid) == 1 and Assignment.objects.count() == 1


@pytest.mark.integration
def test_no_rule_no_acw_and_a_person_s_live_request_leave_the_leg_alone(ruled, queued, admin_user,
                                                                        django_capture_on_commit_callbacks) -> None:  # fmt: skip
    sandbox, client = ruled.sandbox, Client()
    cid, pid = ruled("acw")
    person = assignment_request(conversation_id=cid, participant_id=pid, code=ruled.queue["codeIds"][1],
                                requester=Requester.person(admin_user))  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, emitted(sandbox, cid, "user.end"))
    tasks.events_process_task(queued[-1])
    assert ConversationEvent.objects.get().outcome == EventOutcome.ALREADY
    assert list(Assignment.objects.values_list("pk", flat=True)) == [person.pk] and writes(sandbox, cid, pid) == 0

    ruled.rule.enabled = False
    ruled.rule.save()
    cid2, pid2 = ruled("acw")
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, emitted(sandbox, cid2, "user.end"))
    tasks.events_process_task(queued[-1])
    assert ConversationEvent.objects.get(conversation_id=cid2).outcome == EventOutcome.NO_RULE
    assert writes(sandbox, cid2, pid2) == 0


@pytest.mark.integration
def test_acw_over_settles_what_waits_at_once(ruled, queued, admin_user, django_capture_on_commit_callbacks) -> None:
    sandbox, client = ruled.sandbox, Client()
    cid, pid = ruled("acw")
    waiting = assignment_request(conversation_id=cid, participant_id=pid, code=ruled.queue["codeIds"][1],
                                 requester=Requester.person(admin_user))  # fmt: skip
    Assignment.objects.filter(pk=waiting.pk).update(state=State.WAITING_FOR_ACW, checks=1,
                                                    next_attempt_at=waiting.next_attempt_at.replace(year=2099))  # fmt: skip
    final = ruled.queue["codeIds"][2]
    sandbox.advance(cid, to="wrapped", wrapupCode=final)  # the agent chose a code; ACW over
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, emitted(sandbox, cid, "acw"), bridged=True).status_code == 202
    tasks.events_process_task(queued[-1])
    waiting.refresh_from_db()
    assert waiting.state == State.EXPIRED and waiting.final_code == final and writes(sandbox, cid, pid) == 0
    assert ConversationEvent.objects.get(kind="acw").outcome == EventOutcome.SETTLED


@pytest.mark.integration
def test_the_poller_codes_a_leg_whose_event_was_lost_and_never_twice(ruled, queued,
                                                                     django_capture_on_commit_callbacks) -> None:  # fmt: skip
    sandbox = ruled.sandbox
    cid, pid = ruled("acw")  # events are not delivered anywhere: only the poller can see it
    client = build_genesys_client()
    with django_capture_on_commit_callbacks(execute=True):
        counts = poller.legs_poll(client=client)
    assert counts["queued"] >= 1
    mine = ConversationEvent.objects.get(conversation_id=cid)
    assert mine.via == "poll" and mine.pk in queued
    tasks.events_process_task(mine.pk)
    assert carried(sandbox, cid, pid) == ruled.code.code_id and writes(sandbox, cid, pid) == 1

    with django_capture_on_commit_callbacks(execute=True):
        poller.legs_poll(client=client)
    # The late event, delivered after the poller handled the leg, is a duplicate.
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(Client(), emitted(sandbox, cid, "user.end")).json()["status"] == "duplicate"
    # Only this test's leg is processed: the shared sandbox may hold other tests' legs in ACW.
    for pk in ConversationEvent.objects.filter(conversation_id=cid, pk__in=queued).values_list("pk", flat=True):
        tasks.events_process_task(pk)
    assert writes(sandbox, cid, pid) == 1 and Assignment.objects.filter(conversation_id=cid).count() == 1


@pytest.mark.integration
def test_the_poller_does_nothing_without_enabled_rules(catalog, queued) -> None:
    assert poller.legs_poll(client=build_genesys_client()) == {"found": 0, "queued": 0, "retried": 0, "handled": 0,
                                                                "dropped": 0}  # fmt: skip
    assert not ConversationEvent.objects.exists()


@pytest.mark.integration
def test_the_sandbox_delivers_to_the_live_hook_and_the_leg_gets_the_rule_s_code(ruled, queued, live_server) -> None:
    """The real delivery: the sandbox POSTs its events to the portal over HTTP (EventBridge form)."""
    sandbox = ruled.sandbox
    sandbox.configure(webhook_url=f"{live_server.url}{URL}", webhook_secret=SECRET, webhook_format="eventbridge")
    cid, pid = ruled("connected")
    sandbox.advance(cid)  # connected -> ACW: user.end goes to the hook
    # The live server shares this test's SQLite connection: touch the database only once the hook
    # has answered (the sandbox notes the status when the answer is back), never while it works.
    assert delivery_status(sandbox, cid) == 202
    row = ConversationEvent.objects.get(conversation_id=cid)
    assert row.kind == "user.end" and row.pk in queued
    # Writing the code ends the leg's ACW, and the sandbox would deliver that acw event to the live
    # server while this thread is inside the task's transaction on the same SQLite connection.
    sandbox.configure(webhook_url=None)
    tasks.events_process_task(row.pk)
    assert carried(sandbox, cid, pid) == ruled.code.code_id and writes(sandbox, cid, pid) == 1

    # A sender with the wrong secret is refused and audited.
    sandbox.configure(webhook_url=f"{live_server.url}{URL}", webhook_secret="not-the-secret")
    other, _ = ruled("acw")
    assert delivery_status(sandbox, other) == 401
    assert rejections() == 1 and not ConversationEvent.objects.filter(conversation_id=other).exists()


def delivery_status(sandbox: Any, conversation_id: str, seconds: float = 10) -> int | None:
    """The hook's answer to the sandbox's delivery for this conversation, once it is back."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sent = [e for e in sandbox.events() if conversation_id in e["topic"] and e["status"] is not None]
        if sent:
            time.sleep(0.2)  # the server thread finishes its request (signals, connection) after answering
            return sent[-1]["status"]
        time.sleep(0.05)
    return None


@pytest.mark.integration
def test_the_poller_looks_again_at_a_leg_its_event_found_not_yet_in_acw(ruled, queued,
                                                                        django_capture_on_commit_callbacks) -> None:  # fmt: skip
    sandbox = ruled.sandbox
    cid, pid = ruled("acw")
    early = ConversationEvent.objects.create(kind="user.end", conversation_id=cid, participant_id=pid, tries=1,
                                             dedupe_key=events.ParsedEvent("user.end", cid, pid).dedupe_key,
                                             processed_at=timezone.now(), outcome=EventOutcome.NOT_IN_ACW)  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        counts = poller.legs_poll(client=build_genesys_client())
    assert counts["retried"] >= 1 and early.pk in queued
    tasks.events_process_task(early.pk)
    early.refresh_from_db()
    assert early.outcome == EventOutcome.ASSIGNED and early.tries == 2
    assert carried(sandbox, cid, pid) == ruled.code.code_id and writes(sandbox, cid, pid) == 1


def test_the_poll_runs_every_minute_by_name(db) -> None:
    schedule = Schedule.objects.get(name=POLL_SCHEDULE)
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (
        "wrapup_portal.assignments.tasks.events_poll_task", "I", 1)


@pytest.mark.parametrize("addr, url", [
    ("127.0.0.1:8000", "http://127.0.0.1:8000/hooks/genesys/events"),
    ("8001", "http://127.0.0.1:8001/hooks/genesys/events"),
    ("0.0.0.0:9000", "http://127.0.0.1:9000/hooks/genesys/events"),
    ("[::1]:8000", "http://[::1]:8000/hooks/genesys/events"),
])  # fmt: skip
def test_make_run_points_the_sandbox_at_the_portal_s_own_hook(addr: str, url: str) -> None:
    assert hook_url(addr) == url


def test_old_processed_events_are_pruned_and_recent_or_pending_ones_kept(db) -> None:
    def make(age_days: float | None) -> ConversationEvent:
        processed = None if age_days is None else timezone.now() - timedelta(days=age_days)
        return ConversationEvent.objects.create(kind="user.end", conversation_id=str(uuid.uuid4()),
                                                participant_id=str(uuid.uuid4()), dedupe_key=uuid.uuid4().hex,
                                                processed_at=processed, outcome="no_rule" if processed else "")  # fmt: skip

    old, recent, pending = make(8), make(6), make(None)
    assert events.events_prune() == 1
    assert set(ConversationEvent.objects.values_list("pk", flat=True)) == {recent.pk, pending.pk}
    assert old.pk not in set(ConversationEvent.objects.values_list("pk", flat=True))


def test_an_event_without_a_configured_genesys_is_recorded_as_an_error(db, monkeypatch) -> None:
    def refuse() -> None:
        raise GenesysConfigurationError("GENESYS_CLIENT_ID is not set.")

    monkeypatch.setattr(event_processing, "get_genesys_client", refuse)
    row = ConversationEvent.objects.create(kind="user.end", conversation_id=str(uuid.uuid4()),
                                           participant_id=str(uuid.uuid4()), dedupe_key=uuid.uuid4().hex)  # fmt: skip
    assert "error" in tasks.events_process_task(row.pk)
    row.refresh_from_db()
    assert row.outcome == EventOutcome.ERROR and "GENESYS_CLIENT_ID" in row.detail and row.processed_at is not None
    assert not Assignment.objects.exists()


def test_a_nul_character_is_refused_before_the_database_sees_it(hook, queued) -> None:
    """PostgreSQL cannot store U+0000 in JSON; found by the fuzz tests on PostgreSQL (a 500 before)."""
    body = payload(direction="\u00fc\u0000")
    response = post(hook, body, topic_header=topic(body))
    assert response.status_code == 400
    assert response.json() == {"error": events.NUL_CHARACTER}
    assert not ConversationEvent.objects.exists()


@pytest.mark.parametrize("raw", [b'{"a": Infinity}', b'{"a": NaN}', b'{"a": "\\ud800"}'])
def test_non_json_constants_and_lone_surrogates_are_refused(hook, queued, raw: bytes) -> None:
    """Python's parser takes these, the databases do not: found by the hypothesis fuzz on PostgreSQL."""
    body = payload()
    data = raw[:-1] + b', ' + json.dumps(body).encode()[1:]
    response = post(hook, data, topic_header=topic(body))
    assert response.status_code == 400
    assert not ConversationEvent.objects.exists()
