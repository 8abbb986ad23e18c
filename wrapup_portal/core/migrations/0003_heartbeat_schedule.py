"""Register the cluster heartbeat schedule by name, idempotently."""

from __future__ import annotations

from django.db import migrations

SCHEDULE_NAME = "core.cluster_heartbeat"


def register(apps, schema_editor) -> None:
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": "wrapup_portal.core.tasks.cluster_heartbeat", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def unregister(apps, schema_editor) -> None:
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0002_cache_table"), ("django_q", "0018_task_success_index")]
    operations = [migrations.RunPython(register, unregister)]
