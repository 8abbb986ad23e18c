"""/healthz and the system status page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from django_q.models import Schedule

from wrapup_portal.core.models import Heartbeat
from wrapup_portal.core.selectors import CLUSTER_HEARTBEAT
from wrapup_portal.core.tasks import cluster_heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_genesys(settings):
    # Unit tests here must not reach out to any Genesys; the integration test below opts in.
    settings.GENESYS_CLIENT_ID = ""
    cache.clear()


def test_down_without_a_cluster_heartbeat(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["cluster"]["status"] == "down"
    assert "qcluster" in body["checks"]["cluster"]["detail"]


def test_ok_with_a_fresh_heartbeat_and_genesys_skipped_with_a_reason(client: Client) -> None:
    cluster_heartbeat()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["cluster"]["age_seconds"] < 5
    assert body["checks"]["genesys"]["status"] == "skipped"
    assert "GENESYS_CLIENT_ID" in body["checks"]["genesys"]["detail"]


def test_stale_heartbeat_is_down(client: Client, settings) -> None:
    old = timezone.now() - timedelta(seconds=settings.HEALTH_HEARTBEAT_MAX_AGE_SECONDS + 5)
    Heartbeat.objects.create(name=CLUSTER_HEARTBEAT, beat_at=old)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "limit" in response.json()["checks"]["cluster"]["detail"]


def test_heartbeat_task_is_scheduled_every_minute() -> None:
    schedule = Schedule.objects.get(name="core.cluster_heartbeat")
    assert schedule.func == "wrapup_portal.core.tasks.cluster_heartbeat"
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes == 1


def test_heartbeat_task_is_safe_to_run_twice() -> None:
    cluster_heartbeat()
    cluster_heartbeat()
    assert Heartbeat.objects.filter(name=CLUSTER_HEARTBEAT).count() == 1


def test_unreachable_genesys_is_down_with_its_address(client: Client, settings) -> None:
    cluster_heartbeat()
    settings.GENESYS_CLIENT_ID = "id"
    settings.GENESYS_CLIENT_SECRET = "very-secret-value"
    settings.GENESYS_API_URL = settings.GENESYS_LOGIN_URL = "http://127.0.0.1:9"  # discard port: refused
    settings.GENESYS_TIMEOUT_SECONDS = 2
    response = client.get("/healthz")
    assert response.status_code == 503
    check = response.json()["checks"]["genesys"]
    assert check["status"] == "down"
    assert check["api_url"] == "http://127.0.0.1:9"
    assert "very-secret-value" not in response.content.decode()


@pytest.mark.integration
def test_token_check_against_the_sandbox(client: Client, settings, sandbox) -> None:
    cluster_heartbeat()
    settings.GENESYS_CLIENT_ID, settings.GENESYS_CLIENT_SECRET = sandbox.client_id, sandbox.client_secret
    settings.GENESYS_API_URL = settings.GENESYS_LOGIN_URL = sandbox.url
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    check = response.json()["checks"]["genesys"]
    assert check["status"] == "ok" and check["organization"]
    # A second probe within the TTL reuses the answer: no second token check is sent.
    before = len([r for r in sandbox.requests() if r["path"] == "/api/v2/tokens/me"])
    client.get("/healthz")
    after = len([r for r in sandbox.requests() if r["path"] == "/api/v2/tokens/me"])
    assert after == before


def test_status_page_shows_every_check_to_admins(admin_user, client_for) -> None:
    response = client_for(admin_user).get("/system/")
    assert response.status_code == 200
    for name in ("database", "cluster", "genesys"):
        assert name.encode() in response.content


def test_status_page_lists_the_schedules_with_their_last_result(admin_user, client_for) -> None:
    from django_q.models import Task

    schedule = Schedule.objects.get(name="core.cluster_heartbeat")
    Task.objects.create(id="t1", name="t1", func=schedule.func, started=timezone.now(), stopped=timezone.now(), success=False)
    Schedule.objects.filter(pk=schedule.pk).update(task="t1")
    response = client_for(admin_user).get("/system/")
    rows = {s.name: s for s in response.context["schedules"]}
    assert {"core.cluster_heartbeat", "catalog.sync", "audit.chain_checkpoint"} <= set(rows)
    assert rows["core.cluster_heartbeat"].last_result == "failed"
    assert rows["catalog.sync"].last_result == "" and b"not run yet" in response.content
