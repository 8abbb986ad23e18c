"""Admin pages of accounts: queue grants (moved here from the catalog)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from wrapup_portal.accounts.models import QueueGrant
from wrapup_portal.audit.models import Action, AuditEvent
from wrapup_portal.catalog.models import CodeGroup, SyncRun
from wrapup_portal.catalog.services import sync_run_execute, sync_run_request
from wrapup_portal.core.genesys import build_genesys_client

pytestmark = pytest.mark.django_db


def synced_catalog() -> SyncRun:
    request = sync_run_request(trigger=SyncRun.Trigger.CLI)
    return sync_run_execute(run_id=request.run.pk, client=build_genesys_client())


@pytest.fixture
def admin_client(admin_user, client_for) -> Client:
    return client_for(admin_user)


def test_grant_pages_list_the_leads_and_their_queues(admin_client, lead) -> None:
    now = timezone.now()
    group = CodeGroup.objects.create(queue_id="q-1", name="Billing", first_seen_at=now, changed_at=now)
    QueueGrant.objects.create(user=lead, code_group=group)
    listing = admin_client.get("/accounts/grants/")
    assert listing.status_code == 200
    assert listing.templates[0].name == "accounts/grants.html"
    html = listing.content.decode()
    assert "Billing" in html and f'href="/accounts/grants/{lead.pk}/"' in html
    edit = admin_client.get(f"/accounts/grants/{lead.pk}/")
    assert edit.status_code == 200 and 'href="/accounts/grants/"' in edit.content.decode()
    assert [g.pk for g in edit.context["form"].initial["groups"]] == [group.pk]


def test_old_catalog_addresses_redirect_to_the_grant_pages(admin_client, lead) -> None:
    listing = admin_client.get("/catalog/grants/")
    assert listing.status_code == 301 and listing["Location"] == "/accounts/grants/"
    edit = admin_client.get(f"/catalog/grants/{lead.pk}/")
    assert edit.status_code == 301 and edit["Location"] == f"/accounts/grants/{lead.pk}/"


def test_navigation_links_to_the_grant_pages_in_accounts(admin_client) -> None:
    items = {item["label"]: item for item in admin_client.get("/").context["nav_items"]}
    assert items["Queue grants"]["url"] == "/accounts/grants/"
    assert items["Queue grants"]["url_name"] == "accounts:grants"


@pytest.mark.integration
def test_admin_grants_code_groups_to_a_team_lead(genesys, admin_client, lead) -> None:
    synced_catalog()
    groups = list(CodeGroup.objects.order_by("name")[:2])
    response = admin_client.post(f"/accounts/grants/{lead.pk}/", {"groups": [g.pk for g in groups]})
    assert response.status_code == 302
    assert set(QueueGrant.objects.filter(user=lead).values_list("code_group_id", flat=True)) == {g.pk for g in groups}
    event = AuditEvent.objects.get(action=Action.GRANT_CHANGED)
    assert event.extra["added"] == sorted(g.name for g in groups) and event.extra["lead"] == "lead"
    admin_client.post(f"/accounts/grants/{lead.pk}/", {"groups": [groups[0].pk]})
    assert QueueGrant.objects.filter(user=lead).count() == 1
    assert AuditEvent.objects.filter(action=Action.GRANT_CHANGED).latest("sequence").extra["removed"] == [groups[1].name]


@pytest.mark.integration
def test_grant_with_an_unknown_group_or_to_a_non_lead_changes_nothing(genesys, admin_client, lead, compliance) -> None:
    synced_catalog()
    response = admin_client.post(f"/accounts/grants/{lead.pk}/", {"groups": [999999]})
    assert response.status_code == 200 and "999999 is not one of the available choices" in response.content.decode()
    assert admin_client.post(f"/accounts/grants/{compliance.pk}/", {"groups": [CodeGroup.objects.first().pk]}).status_code == 404
    assert not QueueGrant.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.GRANT_CHANGED).exists()
