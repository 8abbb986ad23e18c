"""The role groups created by the migration, and the demo users."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps as global_apps
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from wrapup_portal.accounts.roles import ROLE_PERMISSIONS, ROLES, perm
from wrapup_portal.accounts.models import QueueGrant
from wrapup_portal.accounts.services import demo_grants_seed, demo_password
from wrapup_portal.audit.models import Action, AuditEvent
from wrapup_portal.catalog.models import CodeGroup

pytestmark = pytest.mark.django_db


def test_migration_creates_each_role_with_exactly_its_permissions() -> None:
    for role, codenames in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=role)
        assert set(group.permissions.values_list("codename", flat=True)) == set(codenames)


def test_role_sync_is_idempotent() -> None:
    from importlib import import_module

    migration = import_module("wrapup_portal.accounts.migrations.0002_roles")
    migration.sync_roles(global_apps, None)
    migration.sync_roles(global_apps, None)
    assert Group.objects.filter(name__in=ROLES).count() == 3
    assert Group.objects.get(name="Team lead").permissions.count() == len(ROLE_PERMISSIONS["Team lead"])


def test_compliance_cannot_assign_and_team_lead_cannot_read_audit(make_user) -> None:
    lead = make_user("l", "Team lead")
    compliance = make_user("c", "Compliance")
    assert lead.has_perm(perm("assign_wrapup")) and not lead.has_perm(perm("view_audit"))
    assert compliance.has_perm(perm("view_audit")) and not compliance.has_perm(perm("assign_wrapup"))


def test_seed_demo_creates_three_users_who_can_sign_in_with_the_printed_passwords() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    printed = out.getvalue()
    request = RequestFactory().post("/accounts/login/")
    for username, role in (("lead", "Team lead"), ("admin", "Admin"), ("compliance", "Compliance")):
        password = demo_password(username)
        assert f"{username}" in printed and password in printed
        user = authenticate(request, username=username, password=password)
        assert user is not None, username
        assert list(user.groups.values_list("name", flat=True)) == [role]
    assert User.objects.get(username="admin").is_staff
    assert not User.objects.get(username="lead").is_staff


def test_seed_demo_twice_changes_nothing_but_keeps_the_passwords() -> None:
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert User.objects.count() == 3
    assert "(ready)" in out.getvalue() and "(created)" not in out.getvalue()
    assert User.objects.get(username="lead").check_password(demo_password("lead"))


def test_demo_grants_give_the_lead_two_queues_once_and_are_audited() -> None:
    call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("seed_demo", "--grants", stdout=out)
    assert "No code groups yet" in out.getvalue() and not QueueGrant.objects.exists()
    for name in ("Billing", "Support EN", "Retention"):
        CodeGroup.objects.create(queue_id=f"q-{name}", name=name, first_seen_at=timezone.now(), changed_at=timezone.now())
    out = StringIO()
    call_command("seed_demo", "--grants", stdout=out)
    assert "Billing, Retention" in out.getvalue()
    assert set(demo_grants_seed()) == {"Billing", "Retention"}  # a second run keeps them
    assert QueueGrant.objects.filter(user__username="lead").count() == 2
    event = AuditEvent.objects.get(action=Action.GRANT_CHANGED)
    assert event.actor_kind == "cli"  # the seed command did it, not a person
