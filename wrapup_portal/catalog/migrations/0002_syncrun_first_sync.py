"""The first sync says what it copied; a run's counts cover every change it lists."""

from __future__ import annotations

from django.db import migrations, models

ADDED_KINDS = ("code_added", "queue_added")
RETIRED_KINDS = ("code_retired", "queue_removed")


def recount(apps, schema_editor) -> None:
    # Runs saved before counted codes only, so their headers disagreed with their change lists.
    SyncRun = apps.get_model("catalog", "SyncRun")
    SyncChange = apps.get_model("catalog", "SyncChange")
    for run in SyncRun.objects.filter(status="succeeded"):
        kinds = list(SyncChange.objects.filter(run=run).values_list("kind", flat=True))
        added = sum(kind in ADDED_KINDS for kind in kinds)
        retired = sum(kind in RETIRED_KINDS for kind in kinds)
        SyncRun.objects.filter(pk=run.pk).update(added=added, retired=retired, changed=len(kinds) - added - retired)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [
        migrations.AddField(model_name="syncrun", name="first_sync", field=models.BooleanField(default=False)),
        migrations.AddField(model_name="syncrun", name="queues_copied", field=models.PositiveIntegerField(default=0)),
        migrations.AddField(model_name="syncrun", name="codes_copied", field=models.PositiveIntegerField(default=0)),
        migrations.RunPython(recount, migrations.RunPython.noop),
    ]
