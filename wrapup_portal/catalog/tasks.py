"""Background tasks of the catalog (django-q2). Plain functions taking ids; safe to run twice."""

from __future__ import annotations

from wrapup_portal.catalog.models import SyncRun
from wrapup_portal.catalog.services import sync_run_execute, sync_run_request
from wrapup_portal.core.genesys import genesys_missing_settings, genesys_not_configured_message


def sync_run_execute_task(run_id: int) -> str:
    """Execute one requested run (queued by "Sync now" or the schedule)."""
    run = sync_run_execute(run_id=run_id)
    return f"sync #{run.pk}: {run.status}"


def catalog_sync_scheduled() -> str:
    """The periodic sync: request a run and execute it in this worker."""
    if missing := genesys_missing_settings():  # nothing to sync with: no failed run every 15 minutes
        return f"skipped: {genesys_not_configured_message(missing)}"
    request = sync_run_request(trigger=SyncRun.Trigger.SCHEDULE)
    if not request.created:
        return f"sync #{request.run.pk} already {request.run.status}; nothing started"
    return sync_run_execute_task(request.run.pk)
