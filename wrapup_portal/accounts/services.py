"""Writes for accounts: demo users."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction

from wrapup_portal.accounts.roles import ADMIN, COMPLIANCE, TEAM_LEAD, roles_sync

DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("lead", TEAM_LEAD, "Lena Lead"),
    ("admin", ADMIN, "Adam Admin"),
    ("compliance", COMPLIANCE, "Carla Compliance"),
)


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    password: str
    created: bool


def demo_password(username: str) -> str:
    """A password derived from the secret key: stable across runs, different per deployment."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"demo-user:{username}".encode(), hashlib.sha256).hexdigest()
    return f"{username}-{digest[:12]}"


@transaction.atomic
def demo_users_seed() -> list[DemoUser]:
    """Create (or repair) the demo users with their role and a known password."""
    roles_sync(apps)
    seeded = []
    for username, role, full_name in DEMO_USERS:
        first, last = full_name.split(" ", 1)
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last}
        )
        password = demo_password(username)
        user.set_password(password)
        user.is_active = True
        # Only the admin role uses Django's admin site (read-only views of portal data).
        user.is_staff = role == ADMIN
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        seeded.append(DemoUser(username=username, role=role, password=password, created=created))
    return seeded
