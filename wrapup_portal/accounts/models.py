"""Accounts: the portal's permissions. Users and groups are Django's own."""

from __future__ import annotations

from django.db import models

from wrapup_portal.accounts.roles import PERMISSIONS


class PortalAccess(models.Model):
    """Holder of the portal's custom permissions; it has no table of its own."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = list(PERMISSIONS.items())


class QueueGrant(models.Model):
    """A team lead may act on the interactions of this code group's queue."""

    user = models.ForeignKey("auth.User", on_delete=models.CASCADE, related_name="queue_grants")
    code_group = models.ForeignKey("catalog.CodeGroup", on_delete=models.CASCADE, related_name="grants")
    granted_by = models.ForeignKey("auth.User", null=True, on_delete=models.SET_NULL, related_name="+")
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "code_group"], name="accounts_queuegrant_unique")]
