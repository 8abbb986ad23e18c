"""/healthz and the system status page."""

from __future__ import annotations

import re
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


NOT_CONFIGURED = (
    "Genesys not configured: set GENESYS_REGION (or GENESYS_API_URL) and GENESYS_CLIENT_ID/GENESYS_CLIENT_SECRET"
)


@pytest.fixture(autouse=True)
def no_genesys(settings):
    # What a deployment without GENESYS_* variables has (and the tests' own environment):
    # unit tests here must not reach out to any Genesys; the tests below that need one set it.
    settings.GENESYS_API_URL = settings.GENESYS_LOGIN_URL = ""
    settings.GENESYS_CLIENT_ID = settings.GENESYS_CLIENT_SECRET = ""
    cache.clear()


@pytest.fixture
def admin_web(admin_user, client_for) -> Client:
    return client_for(admin_user)


def test_down_without_a_cluster_heartbeat(admin_web: Client) -> None:
    response = admin_web.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["cluster"]["status"] == "down"
    assert "qcluster" in body["checks"]["cluster"]["detail"]


def test_anonymous_callers_get_up_or_down_per_check_and_nothing_else(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "down", "checks": {"database": "up", "cluster": "down", "genesys": "down"}}


def test_genesys_not_configured_is_down_and_says_what_to_set(admin_web: Client, client: Client) -> None:
    cluster_heartbeat()
    response = admin_web.get("/healthz")
    assert response.status_code == 503  # a portal that cannot reach Genesys is not healthy
    check = response.json()["checks"]["genesys"]
    assert check["status"] == "down" and check["detail"] == NOT_CONFIGURED
    assert response.json()["checks"]["cluster"]["status"] == "ok"
    assert client.get("/healthz").json() == {"status": "down", "checks": {"database": "up", "cluster": "up", "genesys": "down"}}
    page = admin_web.get("/system/").content.decode()
    assert NOT_CONFIGURED in page and "degraded" in page


def test_genesys_url_without_credentials_names_the_missing_ones(admin_web: Client, settings) -> None:
    settings.GENESYS_API_URL, settings.GENESYS_LOGIN_URL = "https://api.mypurecloud.ie", "https://login.mypurecloud.ie"
    settings.GENESYS_CLIENT_ID = "client-id"
    response = admin_web.get("/healthz")
    check = response.json()["checks"]["genesys"]
    assert response.status_code == 503 and check["status"] == "down"
    assert check["detail"] == "Genesys not configured: set GENESYS_CLIENT_SECRET"
    assert "GENESYS_REGION" not in check["detail"]  # the URL is set: only what is missing is named


def test_stale_heartbeat_is_down(admin_web: Client, settings) -> None:
    old = timezone.now() - timedelta(seconds=settings.HEALTH_HEARTBEAT_MAX_AGE_SECONDS + 5)
    Heartbeat.objects.create(name=CLUSTER_HEARTBEAT, beat_at=old)
    response = admin_web.get("/healthz")
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


def test_unreachable_genesys_is_down_with_its_address_for_admins_only(client: Client, admin_web: Client, settings) -> None:
    cluster_heartbeat()
    settings.GENESYS_CLIENT_ID = "id"
    settings.GENESYS_CLIENT_SECRET = "very-secret-value"
    settings.GENESYS_API_URL = "http://127.0.0.1:9"  # discard port: refused
    settings.GENESYS_LOGIN_URL = "http://127.0.0.1:7"
    settings.GENESYS_TIMEOUT_SECONDS = 2
    response = admin_web.get("/healthz")
    assert response.status_code == 503
    check = response.json()["checks"]["genesys"]
    assert check["status"] == "down" and check["detail"]
    assert check["api_url"] == "http://127.0.0.1:9"
    assert "very-secret-value" not in response.content.decode()
    page = admin_web.get("/system/").content.decode()
    assert "http://127.0.0.1:9" in page and check["detail"] in page
    anonymous = client.get("/healthz")
    assert anonymous.status_code == 503
    assert anonymous.json() == {"status": "down", "checks": {"database": "up", "cluster": "up", "genesys": "down"}}
    text = anonymous.content.decode()
    for leak in ("127.0.0.1", check["detail"], "refused", "very-secret-value"):
        assert leak not in text, leak


@pytest.mark.integration
def test_token_check_against_the_sandbox(client: Client, admin_web: Client, settings, sandbox) -> None:
    cluster_heartbeat()
    settings.GENESYS_CLIENT_ID, settings.GENESYS_CLIENT_SECRET = sandbox.client_id, sandbox.client_secret
    settings.GENESYS_API_URL, settings.GENESYS_LOGIN_URL = sandbox.url, sandbox.login_url
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "up", "cluster": "up", "genesys": "up"}}
    # A second probe within the TTL reuses the answer: no second token check is sent.
    before = len([r for r in sandbox.requests() if r["path"] == "/api/v2/tokens/me"])
    detailed = admin_web.get("/healthz").json()["checks"]["genesys"]
    after = len([r for r in sandbox.requests() if r["path"] == "/api/v2/tokens/me"])
    assert after == before == 1
    organization = sandbox.org()["organization"]["name"]
    assert detailed["status"] == "ok" and detailed["organization"] == organization
    assert "routing:readonly" in detailed["scopes"] and detailed["api_url"] == sandbox.url
    assert detailed["login_url"] == sandbox.login_url
    # Nothing of that reaches anonymous callers; the System status page shows it all.
    text = response.content.decode()
    for leak in (organization, "routing:readonly", sandbox.url, "127.0.0.1", "organization", "scopes"):
        assert leak not in text, leak
    page = admin_web.get("/system/").content.decode()
    for shown in (organization, "routing:readonly", sandbox.url, sandbox.login_url):
        assert shown in page, shown


def test_signed_in_users_without_system_access_get_the_anonymous_answer(lead, client_for) -> None:
    body = client_for(lead).get("/healthz").json()
    assert body == {"status": "down", "checks": {"database": "up", "cluster": "down", "genesys": "down"}}


def test_status_page_shows_every_check_to_admins(admin_web: Client) -> None:
    response = admin_web.get("/system/")
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


def test_status_page_says_how_often_every_kind_of_schedule_runs(admin_web: Client, settings) -> None:
    Schedule.objects.create(name="test.daily", func="math.floor", schedule_type=Schedule.DAILY, repeats=-1)
    cron = Schedule.objects.create(name="test.cron", func="math.floor", schedule_type=Schedule.DAILY, repeats=-1)
    Schedule.objects.filter(pk=cron.pk).update(schedule_type=Schedule.CRON, cron="0 3 * * 1")  # saving one needs croniter
    html = admin_web.get("/system/").content.decode()
    every = dict(re.findall(r"<tr><td>([\w.]+)</td><td>([^<]*)</td>", html))
    # The hourly chain check had an empty "every" cell: only MINUTES schedules have minutes.
    assert every["audit.chain_checkpoint"] == "hour"
    assert every["core.cluster_heartbeat"] == "1 min"
    assert every["catalog.sync"] == f"{settings.CATALOG_SYNC_MINUTES} min"
    assert every["test.daily"] == "day" and every["test.cron"] == "cron 0 3 * * 1"
