"""Create the three role groups with their permissions. Safe to run again."""

from __future__ import annotations

from django.db import migrations

from wrapup_portal.accounts.roles import roles_sync


def sync_roles(apps, schema_editor) -> None:
    roles_sync(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(sync_roles, migrations.RunPython.noop)]
