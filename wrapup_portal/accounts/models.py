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
