"""Writes for accounts: demo users, queue grants, and unlocking a locked-out sign-in."""

from __future__ import annotations

import getpass
import hashlib
import hmac
from dataclasses import dataclass

from axes.utils import reset as axes_reset
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from wrapup_portal.accounts.models import QueueGrant
from wrapup_portal.accounts.roles import ADMIN, COMPLIANCE, TEAM_LEAD, perm, roles_sync
from wrapup_portal.audit.models import Action
from wrapup_portal.audit.services import Actor, audit_record
from wrapup_portal.catalog.models import CodeGroup

GRANT_NOT_A_LEAD = "Queues can only be granted to team leads; admins already act on every queue."
GRANT_UNKNOWN_GROUP = "Unknown or removed code group(s): %(ids)s."
UNLOCK_NOT_LOCKED = "%(username)s is not locked out from %(ip_address)s any more."

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


def queue_grants_set(
    *, lead: User, group_ids: set[int], by: User | None, request: HttpRequest | None = None
) -> bool:
    """Make `group_ids` exactly the code groups granted to `lead`; audited when anything changed.

    `by` None: a command-line tool did it (recorded with the OS user).
    """
    if not lead.has_perm(perm("view_interactions")) or lead.has_perm(perm("all_queues")):
        raise ValidationError(GRANT_NOT_A_LEAD, code="not_a_lead")
    with transaction.atomic():
        valid = set(CodeGroup.objects.filter(pk__in=group_ids, removed_at__isnull=True).values_list("pk", flat=True))
        if unknown := group_ids - valid:
            raise ValidationError(GRANT_UNKNOWN_GROUP, code="unknown_group", params={"ids": sorted(unknown)})
        current = set(QueueGrant.objects.filter(user=lead).values_list("code_group_id", flat=True))
        if current == valid:
            return False
        QueueGrant.objects.filter(user=lead, code_group_id__in=current - valid).delete()
        QueueGrant.objects.bulk_create([QueueGrant(user=lead, code_group_id=g, granted_by=by) for g in valid - current])
        names = dict(CodeGroup.objects.filter(pk__in=current | valid).values_list("pk", "name"))
        audit_record(
            action=Action.GRANT_CHANGED, actor=Actor.for_user(by) if by else Actor.cli(getpass.getuser()), request=request,
            target_kind="user", target_id=str(lead.pk),
            extra={"lead": lead.get_username(),
                   "before": sorted(names[g] for g in current), "after": sorted(names[g] for g in valid),
                   "added": sorted(names[g] for g in valid - current), "removed": sorted(names[g] for g in current - valid)},
        )
    return True


def demo_grants_seed(*, queues: int = 2) -> list[str]:
    """Grant the demo team lead the first code groups, unless it has grants already."""
    lead = User.objects.get(username="lead")
    if QueueGrant.objects.filter(user=lead).exists():
        return list(QueueGrant.objects.filter(user=lead).values_list("code_group__name", flat=True))
    groups = list(CodeGroup.objects.filter(removed_at__isnull=True).order_by("name")[:queues])
    if groups:
        queue_grants_set(lead=lead, group_ids={g.pk for g in groups}, by=None)
    return [g.name for g in groups]


def lockout_release(*, username: str, ip_address: str, by: User, request: HttpRequest | None = None) -> int:
    """Unlock `username` from `ip_address` before the cool-off ends; audited. Returns the attempts cleared.

    Clears that pair's failed attempts (django-axes' own reset), so the count starts again from
    zero; the same username from other addresses, and other usernames, stay as they are.
    """
    with transaction.atomic():
        cleared = axes_reset(ip=ip_address, username=username)
        if not cleared:
            # Expired, or another admin was quicker: nothing changed, so nothing to audit.
            raise ValidationError(UNLOCK_NOT_LOCKED, code="not_locked",
                                  params={"username": username, "ip_address": ip_address})
        audit_record(
            action=Action.UNLOCKED, actor=Actor.for_user(by), request=request, outcome="unlocked",
            target_kind="user", target_id=username,
            extra={"username": username, "ip_address": ip_address, "attempts_cleared": cleared},
        )
    return cleared
