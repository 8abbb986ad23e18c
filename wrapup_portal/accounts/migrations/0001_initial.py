from __future__ import annotations

from django.db import migrations, models

from wrapup_portal.accounts.roles import PERMISSIONS


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="PortalAccess",
            fields=[("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"))],
            options={"managed": False, "default_permissions": (), "permissions": list(PERMISSIONS.items())},
        ),
    ]
