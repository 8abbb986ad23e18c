"""Create the three role groups with their permissions. Safe to run again."""

from __future__ import annotations

from django.db import migrations

from wrapup_portal.accounts.roles import PERMISSIONS, ROLE_PERMISSIONS


def sync_roles(apps, schema_editor) -> None:
    # Permissions are normally created after all migrations (post_migrate); create them
    # here so the groups can be filled on a fresh database.
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
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


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
