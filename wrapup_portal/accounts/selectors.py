"""Reads for accounts: who may act on which queues, and whose sign-in is locked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Max, QuerySet, Sum
from django.utils import timezone

from wrapup_portal.accounts.models import QueueGrant
from wrapup_portal.accounts.roles import TEAM_LEAD, perm


def queue_ids_for(*, user: User) -> set[str] | None:
    """Queue ids the user may act on; None means every queue."""
    if user.has_perm(perm("all_queues")):
        return None
    if not user.has_perm(perm("view_interactions")):
        return set()
    return set(QueueGrant.objects.filter(user=user, code_group__removed_at__isnull=True).values_list("code_group__queue_id", flat=True))


def team_lead_list() -> QuerySet[User]:
    return User.objects.filter(groups__name=TEAM_LEAD, is_active=True).prefetch_related("queue_grants__code_group").order_by("username")


@dataclass(frozen=True)
class Lockout:
    """A username locked out from one address, and until when (unless an admin unlocks it)."""

    username: str
    ip_address: str
    failures: int
    last_attempt: datetime
    locked_until: datetime


def lockout_list() -> list[Lockout]:
    """Current lockouts, newest first.

    Counted as django-axes counts them (AXES_LOCKOUT_PARAMETERS is username + address): the
    failures of one username from one address (all user agents) within the cool-off period,
    at least AXES_FAILURE_LIMIT of them. Each failure, also while locked, restarts the period.
    """
    cooloff = settings.AXES_COOLOFF_TIME
    rows = (
        AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - cooloff)
        .values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"), last_attempt=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .order_by("-last_attempt", "username")
    )
    return [
        Lockout(username=row["username"] or "", ip_address=row["ip_address"] or "", failures=row["failures"],
                last_attempt=row["last_attempt"], locked_until=row["last_attempt"] + cooloff)
        for row in rows
    ]
