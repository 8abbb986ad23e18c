from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wrapup_portal.catalog.models import SyncRun
from wrapup_portal.catalog.services import sync_run_execute, sync_run_request
from wrapup_portal.core.genesys import build_genesys_client, genesys_missing_settings, genesys_not_configured_message


class Command(BaseCommand):
    help = (
        "Sync the wrap-up catalog with Genesys now and print a summary. Without --queue it syncs every "
        "queue selected for sync (all queues while none has been selected). Exits non-zero on failure."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue", action="append", default=[], metavar="ID", help="sync only this queue (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        if missing := genesys_missing_settings():
            raise CommandError(genesys_not_configured_message(missing))
        request = sync_run_request(trigger=SyncRun.Trigger.CLI, queue_ids=options["queue"])
        if not request.created:
            raise CommandError(f"Sync #{request.run.pk} is already {request.run.status}; try again when it has finished.")
        self.stdout.write(f"Sync #{request.run.pk} started by {getpass.getuser()} on the command line")
        run = sync_run_execute(run_id=request.run.pk, client=build_genesys_client())
        if run.status != SyncRun.Status.SUCCEEDED:
            raise CommandError(f"Sync #{run.pk} failed: {run.error}")
        self.stdout.write(
            f"Sync #{run.pk} succeeded: {run.summary}, "
            f"{run.rows_written} rows written, {run.api_calls} API calls."
        )
