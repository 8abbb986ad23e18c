"""Every action that exists today produces exactly one audit event.

Later steps add their actions (assignments, sync runs, rules, grants, webhook) with the
same kind of test, next to their own services.
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD
from wrapup_portal.accounts.roles import perm
from wrapup_portal.audit.models import Action, ActorKind, AuditEvent

LOGIN = "/accounts/login/"
pytestmark = pytest.mark.django_db


def actions() -> Counter[str]:
    return Counter(AuditEvent.objects.values_list("action", flat=True))


def test_sign_in_records_one_event_with_who_and_where(client: Client, lead) -> None:
    client.post(LOGIN, {"username": "lead", "password": PASSWORD}, REMOTE_ADDR="192.0.2.7", HTTP_USER_AGENT="Test/1")
    assert actions() == Counter({Action.SIGN_IN: 1})
    event = AuditEvent.objects.get()
    assert (event.actor_kind, event.actor_id, event.actor_username) == (ActorKind.USER, str(lead.pk), "lead")
    assert (event.source_ip, event.user_agent, event.outcome) == ("192.0.2.7", "Test/1", "ok")
    assert len(event.request_id) == 32  # from RequestIdMiddleware


def test_failed_sign_in_records_one_event_without_the_password(client: Client, lead) -> None:
    client.post(LOGIN, {"username": "lead", "password": "not-the-password"})
    assert actions() == Counter({Action.SIGN_IN_FAILED: 1})
    event = AuditEvent.objects.get()
    assert (event.actor_username, event.actor_id, event.outcome, event.target_id) == ("lead", "", "refused", "lead")
    assert "not-the-password" not in str(AuditEvent.objects.values().get())


def test_lockout_records_one_lockout_event(client: Client, lead) -> None:
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit):
        client.post(LOGIN, {"username": "lead", "password": "wrong"})
    assert actions() == Counter({Action.SIGN_IN_FAILED: limit, Action.LOCKOUT: 1})
    lockout = AuditEvent.objects.get(action=Action.LOCKOUT)
    assert (lockout.actor_username, lockout.extra) == ("lead", {"failures": limit})


def test_sign_out_records_one_event(client: Client, lead) -> None:
    client.post(LOGIN, {"username": "lead", "password": PASSWORD})
    client.post(reverse("accounts:logout"))
    assert actions() == Counter({Action.SIGN_IN: 1, Action.SIGN_OUT: 1})
    assert AuditEvent.objects.get(action=Action.SIGN_OUT).actor_username == "lead"


def test_sign_out_without_a_session_records_nothing(client: Client, db) -> None:
    client.post(reverse("accounts:logout"))
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("user_fixture", ["lead", "admin_user"])
def test_forbidden_roles_get_403_and_one_permission_denied_event(request, client_for, user_fixture: str) -> None:
    user = request.getfixturevalue(user_fixture)
    client = client_for(user)  # force_login records a sign-in
    response = client.get(reverse("audit:list") + "?action=auth.sign_in")
    assert response.status_code == 403
    assert actions() == Counter({Action.SIGN_IN: 1, Action.PERMISSION_DENIED: 1})
    denied = AuditEvent.objects.get(action=Action.PERMISSION_DENIED)
    assert (denied.actor_username, denied.target_kind, denied.target_id) == (user.username, "url", "/audit/?action=auth.sign_in")
    assert denied.extra == {"method": "GET"}


def test_compliance_reads_the_log_but_cannot_assign(compliance, lead, client_for) -> None:
    assert compliance.has_perm(perm("view_audit")) and compliance.has_perm(perm("export_audit"))
    assert not compliance.has_perm(perm("assign_wrapup"))
    assert not lead.has_perm(perm("view_audit"))
    assert client_for(compliance).get(reverse("audit:list")).status_code == 200


def test_export_records_one_event(compliance, client_for) -> None:
    client = client_for(compliance)
    response = client.get(reverse("audit:export") + "?format=jsonl&action=auth.sign_in")
    b"".join(response.streaming_content)
    assert actions() == Counter({Action.SIGN_IN: 1, Action.EXPORT_DOWNLOADED: 1})
    event = AuditEvent.objects.get(action=Action.EXPORT_DOWNLOADED)
    assert event.actor_username == "compliance"
    assert event.extra == {"format": "jsonl", "filter": {"action": "auth.sign_in"}}


def test_every_action_is_named_and_fits_its_column() -> None:
    width = AuditEvent._meta.get_field("action").max_length
    assert all(len(value) <= width for value in Action.values)
    assert len(set(Action.labels)) == len(Action.labels)
