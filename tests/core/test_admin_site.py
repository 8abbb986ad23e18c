"""Django's admin site: admins read portal data there; anyone else signed in is told "Not allowed"."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from wrapup_portal.accounts.models import QueueGrant
from wrapup_portal.audit.models import Action, AuditEvent
from wrapup_portal.catalog.models import CodeGroup

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role_user", ["lead", "compliance"])
def test_signed_in_role_without_admin_rights_is_told_not_allowed_at_admin(request, client_for, role_user) -> None:
    user = request.getfixturevalue(role_user)
    client = client_for(user)
    response = client.get("/admin/", follow=True)
    # Before: /admin/ -> /admin/login/ -> /accounts/login/?next=/admin/ -> /admin/ -> ... for ever.
    assert response.status_code == 403
    assert response.redirect_chain == []
    assert b"Not allowed" in response.content
    assert AuditEvent.objects.filter(action=Action.PERMISSION_DENIED, target_id="/admin/").exists()


def test_old_admin_sign_in_link_does_not_loop_for_a_signed_in_lead(lead, client_for) -> None:
    response = client_for(lead).get("/admin/login/?next=/admin/", follow=True)
    assert response.status_code == 403 and b"Not allowed" in response.content
    assert len(response.redirect_chain) <= 3


def test_admin_reads_users_and_queue_grants(admin_user, lead, client_for) -> None:
    code_group = CodeGroup.objects.create(queue_id="q-1", name="Billing", first_seen_at="2026-01-01T00:00Z",
                                          changed_at="2026-01-01T00:00Z")
    grant = QueueGrant.objects.create(user=lead, code_group=code_group, granted_by=admin_user)
    client = client_for(admin_user)
    index = client.get("/admin/")
    assert index.status_code == 200
    html = index.content.decode()
    assert "You don’t have permission to view or edit anything" not in html
    assert 'href="/admin/auth/user/"' in html and 'href="/admin/accounts/queuegrant/"' in html
    assert "/admin/audit/" not in html  # compliance's, not the admin's (see below)

    users = client.get("/admin/auth/user/")
    assert users.status_code == 200 and "lead" in users.content.decode()
    user_page = client.get(f"/admin/auth/user/{lead.pk}/change/")
    assert user_page.status_code == 200
    assert "Billing" in user_page.content.decode()  # the lead's queue grants, inline
    assert "pbkdf2" not in user_page.content.decode() and "md5" not in user_page.content.decode()
    grants = client.get("/admin/accounts/queuegrant/")
    assert grants.status_code == 200 and "Billing" in grants.content.decode()
    assert client.get(f"/admin/accounts/queuegrant/{grant.pk}/change/").status_code == 200


def test_admin_site_changes_nothing(admin_user, lead, client_for) -> None:
    client = client_for(admin_user)
    for url in ("/admin/auth/user/add/", "/admin/accounts/queuegrant/add/", f"/admin/auth/user/{lead.pk}/delete/",
                f"/admin/auth/user/{lead.pk}/password/"):
        assert client.get(url).status_code == 403, url
    response = client.post(f"/admin/auth/user/{lead.pk}/change/", {"username": "renamed", "is_staff": "on"})
    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.username == "lead" and not lead.is_staff
    page = client.get(f"/admin/auth/user/{lead.pk}/change/").content.decode()
    assert 'name="_save"' not in page


def test_admin_does_not_read_audit_events_in_django_admin(admin_user, client_for) -> None:
    client = client_for(admin_user)
    assert client.get("/admin/audit/auditevent/").status_code == 403
    assert client.get("/admin/audit/auditcheckpoint/").status_code == 403


def test_superuser_reads_audit_events_but_cannot_change_them(client_for) -> None:
    root = User.objects.create_superuser("root", password="x" * 12)
    client = client_for(root)
    event = AuditEvent.objects.order_by("-sequence").first()  # the sign-in just recorded
    assert client.get("/admin/audit/auditevent/").status_code == 200
    assert client.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 200
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    assert client.get(f"/admin/audit/auditevent/{event.pk}/delete/").status_code == 403
