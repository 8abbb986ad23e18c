"""Register the hourly chain verification and checkpoint by name, idempotently."""

from __future__ import annotations

from django.db import migrations

SCHEDULE_NAME = "audit.chain_checkpoint"


def register(apps, schema_editor) -> None:
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": "wrapup_portal.audit.tasks.audit_chain_checkpoint", "schedule_type": "H", "repeats": -1},
    )


def unregister(apps, schema_editor) -> None:
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only"), ("django_q", "0018_task_success_index")]
    operations = [migrations.RunPython(register, unregister)]
