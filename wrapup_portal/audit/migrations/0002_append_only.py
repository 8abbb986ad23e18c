"""Make the audit tables append-only with triggers, and create the chain head row."""

from __future__ import annotations

from django.db import migrations

from wrapup_portal.audit.triggers import create_triggers, drop_triggers


def forwards(apps, schema_editor) -> None:
    create_triggers(schema_editor.connection)
    apps.get_model("audit", "AuditChainHead").objects.get_or_create(pk=1)


def backwards(apps, schema_editor) -> None:
    drop_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
