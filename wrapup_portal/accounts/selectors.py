"""Reads for accounts: who may act on which queues."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db.models import QuerySet

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
