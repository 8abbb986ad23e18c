"""On PostgreSQL, refuse TRUNCATE of the audit tables too (a statement-level trigger)."""

from __future__ import annotations

from django.db import migrations

from wrapup_portal.audit.triggers import create_triggers, drop_truncate_triggers


def forwards(apps, schema_editor) -> None:
    # Idempotent: re-creates 0002's triggers as they are now, which adds the TRUNCATE ones.
    if schema_editor.connection.vendor == "postgresql":
        create_triggers(schema_editor.connection)


def backwards(apps, schema_editor) -> None:
    drop_truncate_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_code_name_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
