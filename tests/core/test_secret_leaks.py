"""No secret leaks: a whole journey with known, distinctive secrets, then every place they could
surface is searched for them.

The journey: sign in (with a password, and with single sign-on), sync the catalog, grant a
queue, search, open a conversation, assign a code (the engine writes it to Genesys), deliver an
event to the hook with the right and with a wrong secret, view the system status and /healthz,
read and export the audit log (CSV and JSON Lines). Searched: every captured log record (every
logger at DEBUG), everything written to stderr and stdout, every page and export body, and every table of the database, cell by cell,
also decoded where a cell is base64 (the database cache pickles its values) or a signed,
compressed django-q package. Searched for: the Genesys client secret, the webhook secret, every
access token the sandbox issued, and the single sign-on's client secret and the tokens its
provider issued.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection
from django.test import Client

from integrations.genesys_sandbox import OrgSpec, SandboxServer
from tests.accounts.oidc_provider import OIDCProvider
from tests.accounts.test_sso import sso_sign_in
from tests.conftest import PASSWORD
from tests.fixtures_sandbox import SandboxHelper
from wrapup_portal.accounts import oidc
from wrapup_portal.accounts.roles import roles_sync
from wrapup_portal.assignments import events, services
from wrapup_portal.assignments.engine import assignment_execute
from wrapup_portal.assignments.models import Assignment, State
from wrapup_portal.catalog.models import CodeGroup, SyncRun
from wrapup_portal.catalog.tasks import sync_run_execute_task
from wrapup_portal.core.genesys import reset_genesys_client

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.database_cache]

CLIENT_SECRET = "GcS-7f3e9b21-distinctive-genesys-client-secret"
WEBHOOK_SECRET = "WhS-4c8a0d55-distinctive-webhook-secret"
OIDC_CLIENT_SECRET = "OcS-91d2aa07-distinctive-oidc-client-secret"
CANARY = "Canary-2e6f-plain-value-in-the-cache"  # proves the dump search sees pickled cache values


@pytest.fixture(scope="module")
def secret_sandbox() -> Iterator[SandboxServer]:
    org = OrgSpec(queues=3, codes=12, agents=6, days=1, conversations=0, deleted_codes=0)
    server = SandboxServer(host="127.0.0.1", port=0, seed=17, live=False, org=org, client_secret=CLIENT_SECRET)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def identity_provider() -> Iterator[OIDCProvider]:
    server = OIDCProvider(client_secret=OIDC_CLIENT_SECRET).start()
    yield server
    server.stop()


@pytest.fixture
def portal(settings: Any, secret_sandbox: SandboxServer, identity_provider: OIDCProvider,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxHelper]:
    helper = SandboxHelper(secret_sandbox.url, secret_sandbox.login_url)
    helper.client_secret = CLIENT_SECRET
    settings.GENESYS_API_URL, settings.GENESYS_LOGIN_URL = secret_sandbox.url, secret_sandbox.login_url
    settings.GENESYS_CLIENT_ID, settings.GENESYS_CLIENT_SECRET = helper.client_id, CLIENT_SECRET
    settings.WRAPUP_WEBHOOK_SECRET = WEBHOOK_SECRET
    identity_provider.reset()
    identity_provider.switch_on(settings)
    oidc.forget_discovery()
    # Nothing goes to a cluster: the test runs each task itself, as a worker would.
    monkeypatch.setattr(services, "assignment_enqueue", lambda ids: None)
    monkeypatch.setattr(services, "assignment_feed", lambda **kwargs: 0)
    monkeypatch.setattr(events, "event_enqueue", lambda pk: None)
    cache.clear()
    reset_genesys_client()
    yield helper
    reset_genesys_client()


class Seen:
    """Everything the journey produced that a person or a log reader could see."""

    def __init__(self) -> None:
        self.bodies: list[str] = []

    def keep(self, response: Any) -> Any:
        content = b"".join(response.streaming_content) if response.streaming else response.content
        self.bodies.append(f"{response.status_code} {dict(response.headers)}\n{content.decode('utf-8', 'replace')}")
        return response


def signed_in(username: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, f"{username} could not sign in"
    return client


def decoded_forms(cell: str) -> list[str]:
    """The cell, and what it holds when it is base64 (a pickled cache value) or a django-q package."""
    forms = [cell]
    try:
        forms.append(base64.b64decode(cell, validate=True).decode("latin-1"))
    except (binascii.Error, ValueError):
        pass
    payload = cell.split(":", 1)[0]
    if payload.startswith("."):  # django.core.signing, compressed
        try:
            raw = base64.urlsafe_b64decode(payload[1:] + "=" * (-len(payload[1:]) % 4))
            forms.append(zlib.decompress(raw).decode("latin-1"))
        except (binascii.Error, ValueError, zlib.error):
            pass
    return forms


def database_dump() -> str:
    """Every cell of every table, as text, with the decoded forms beside it."""
    lines = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for cell in row:
                    text = bytes(cell).decode("latin-1") if isinstance(cell, (bytes, memoryview)) else str(cell)
                    lines.extend(decoded_forms(text))
    return "\n".join(lines)


@pytest.mark.django_db(transaction=True)
def test_no_secret_or_token_appears_in_logs_pages_exports_or_the_database(
    portal: SandboxHelper, secret_sandbox: SandboxServer, identity_provider: OIDCProvider, make_user: Any,
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str],
) -> None:
    for name in ["", *logging.root.manager.loggerDict]:
        caplog.set_level(logging.DEBUG, logger=name)
    seen = Seen()
    roles_sync(apps)  # a transactional test may start from a database another one flushed
    make_user("admin", "Admin", is_staff=True)
    lead = make_user("lead", "Team lead")
    admin, lead_client = signed_in("admin"), signed_in("lead")
    compliance = Client()  # compliance signs in with single sign-on
    seen.keep(compliance.get("/accounts/login/"))
    seen.keep(sso_sign_in(compliance, identity_provider, {"sub": "s-carla", "preferred_username": "carla",
                                                          "groups": ["cc-audit"]}))
    assert seen.keep(compliance.get("/audit/")).status_code == 200

    # The catalog, synced as the admin asks and a worker runs it.
    seen.keep(admin.post("/catalog/sync/"))
    sync_run_execute_task(SyncRun.objects.latest("pk").pk)
    assert SyncRun.objects.latest("pk").status == SyncRun.Status.SUCCEEDED
    seen.keep(admin.get("/catalog/"))
    queue = next(q for q in portal.org()["queues"] if q["wrapupPrompt"] == "MANDATORY")
    group = CodeGroup.objects.get(queue_id=queue["id"])
    seen.keep(admin.post(f"/accounts/grants/{lead.pk}/", {"groups": [group.pk]}))

    # A leg in after-call work: searched for, opened, coded (the engine writes it to Genesys).
    conversation = portal.create_conversation(queueId=queue["id"], state="acw")
    agent = next(p for p in conversation["participants"] if p["purpose"] == "agent")
    seen.keep(lead_client.get("/interactions/", {"preset": "last_7_days", "wrapup": "acw"}))
    seen.keep(lead_client.get(f"/interactions/{conversation['id']}/"))
    seen.keep(lead_client.post(f"/interactions/{conversation['id']}/legs/{agent['id']}/assign/",
                               {"code": queue["codeIds"][0], "notes": "leak test"}))
    for pk in Assignment.objects.values_list("pk", flat=True):
        assignment_execute(assignment_id=pk)
    assert Assignment.objects.get().state == State.APPLIED
    seen.keep(lead_client.get("/assignments/"))

    # The hook, with the right secret and with a wrong one.
    body = {"eventTime": 1777817325000, "conversationId": conversation["id"], "participantId": agent["id"],
            "userId": str(uuid.uuid4()), "queueId": queue["id"], "mediaType": "VOICE", "direction": "INBOUND"}
    topic = f"v2.detail.events.conversation.{conversation['id']}.user.end"
    hook = Client()
    for secret, status in ((WEBHOOK_SECRET, 202), (WEBHOOK_SECRET[:-1] + "X", 401), ("", 401)):
        response = hook.post("/hooks/genesys/events", json.dumps(body), content_type="application/json",
                             headers={"X-Wrapup-Webhook-Secret": secret, "X-Wrapup-Event-Topic": topic})
        assert seen.keep(response).status_code == status

    # Status, health, and the audit log read and exported.
    seen.keep(admin.get("/system/"))
    seen.keep(Client().get("/healthz"))
    seen.keep(compliance.get("/audit/"))
    for fmt in ("csv", "jsonl"):
        export = seen.keep(compliance.get("/audit/export/", {"format": fmt}))
        assert export.status_code == 200
    assert "webhook" in "".join(seen.bodies[-2:])  # the exports hold the rejected deliveries

    tokens = secret_sandbox.app.tokens.issued_values()
    assert tokens, "the journey should have used an access token"
    provider_tokens = [*identity_provider.access_tokens, *identity_provider.id_tokens]
    assert len(provider_tokens) == 2, "the single sign-on should have got its tokens"
    cache.set("leak-test:canary", {"value": CANARY}, 600)
    dump = database_dump()
    assert CANARY in dump  # the dump search does see inside pickled cache values…
    assert ":genesys:token:" in dump, "the token was not cached"  # …and the token row is there
    captured = capfd.readouterr()
    logs = "\n".join(
        [caplog.text]
        + [f"{r.getMessage()} {r.args!r} {r.exc_text or ''} {getattr(r, 'request', '')}" for r in caplog.records])
    places = {"logs": logs, "stderr": captured.err, "stdout": captured.out, "pages": "\n".join(seen.bodies),
              "database": dump}
    assert caplog.records, "DEBUG logging should have captured the journey"
    for secret_name, secret in [("client secret", CLIENT_SECRET), ("webhook secret", WEBHOOK_SECRET),
                                ("OIDC client secret", OIDC_CLIENT_SECRET), *(("access token", t) for t in tokens),
                                *(("identity provider's token", t) for t in provider_tokens)]:
        for place, text in places.items():
            assert secret not in text, f"the {secret_name} appears in {place}"
