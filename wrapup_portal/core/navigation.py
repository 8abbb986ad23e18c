"""The navigation bar: each entry names the permission it needs, so a role sees only its pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.urls import reverse

from wrapup_portal.accounts.roles import perm


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None  # codename on accounts.PortalAccess; None = every signed-in user


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("Overview", "overview:home", None),
    NavItem("Interactions", "interactions:search", "view_interactions"),
    NavItem("Live board", "interactions:board", "view_interactions"),
    NavItem("Assignments", "assignments:list", "assign_wrapup"),
    NavItem("Code catalog", "catalog:groups", "manage_catalog"),
    NavItem("Rules", "rules:list", "manage_rules"),
    NavItem("Queue grants", "accounts:grants", "manage_grants"),
    NavItem("System status", "core:status", "view_system"),
    NavItem("Audit log", "audit:list", "view_audit"),
)


def nav_for(user: AbstractBaseUser | AnonymousUser) -> list[dict[str, str]]:
    if not user.is_authenticated:
        return []
    return [
        {"label": item.label, "url": reverse(item.url_name), "url_name": item.url_name}
        for item in NAV_ITEMS
        if item.permission is None or user.has_perm(perm(item.permission))
    ]
