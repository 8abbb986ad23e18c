"""Register the assignment sweeper's schedule by name, idempotently."""

from django.db import migrations

SCHEDULE_NAME = "assignments: sweep due and lost assignments"


def register(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={"func": "wrapup_portal.assignments.tasks.assignments_sweep", "schedule_type": "I", "minutes": 1, "repeats": -1},
    )


def unregister(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("assignments", "0001_initial"), ("django_q", "0018_task_success_index")]
    operations = [migrations.RunPython(register, unregister)]
