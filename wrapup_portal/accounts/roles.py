"""The three roles of docs/design.md and the permissions each holds.

Roles are Django groups; every page checks a permission, never a group name, so a site
may build other groups from the same permissions. The data migration
`0002_roles` creates these groups idempotently from this table.
"""

from __future__ import annotations

from typing import Any

TEAM_LEAD = "Team lead"
ADMIN = "Admin"
COMPLIANCE = "Compliance"
ROLES = (TEAM_LEAD, ADMIN, COMPLIANCE)

# codename -> human name; all live on accounts.PortalAccess.
PERMISSIONS: dict[str, str] = {
    "view_interactions": "Search interactions and see who is in after-call work",
    "assign_wrapup": "Assign and correct wrap-up codes",
    "all_queues": "Act on every queue, not only granted ones",
    "manage_catalog": "Choose synced queues, sync the code catalog, see drift",
    "manage_rules": "Create, change and delete auto-assign rules",
    "manage_grants": "Grant queues to team leads",
    "view_system": "See system status (health, cluster, Genesys connection)",
    "view_audit": "Read and filter the audit log",
    "export_audit": "Export the audit log and verify its chain",
}

ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    TEAM_LEAD: ("view_interactions", "assign_wrapup"),
    ADMIN: (
        "view_interactions",
        "assign_wrapup",
        "all_queues",
        "manage_catalog",
        "manage_rules",
        "manage_grants",
        "view_system",
    ),
    # Separation of duties: compliance reads everything and changes nothing.
    COMPLIANCE: ("view_audit", "export_audit"),
}


def perm(codename: str) -> str:
    """Full permission name for `has_perm`, e.g. perm("assign_wrapup")."""
    return f"accounts.{codename}"


def roles_sync(apps: Any) -> None:
    """Create or repair the role groups and their permissions; idempotent.

    Takes an app registry so the data migration (historical models) and services (the
    real ones) share this code.
    """
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    # Permissions are normally created after all migrations (post_migrate); create them
    # here so the groups can be filled on a fresh database.
    content_type, _ = ContentType.objects.get_or_create(app_label="accounts", model="portalaccess")
    by_codename = {}
    for codename, name in PERMISSIONS.items():
        permission, _ = Permission.objects.update_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )
        by_codename[codename] = permission
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set([by_codename[c] for c in codenames])
