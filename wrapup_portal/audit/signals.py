"""The cluster verifies the chain when it starts (connected in AuditConfig.ready)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError
from django_q.signals import post_spawn

from wrapup_portal.audit.services import audit_checkpoint_soon

logger = logging.getLogger(__name__)


def on_cluster_worker_started(sender: Any, proc_name: str = "", **kwargs: Any) -> None:
    # django-q2 has no "cluster started" signal; every worker sends post_spawn as it starts
    # (qcluster's start, and a worker replaced later). Bringing the hourly schedule forward is
    # idempotent, so the workers of one start make one verification.
    try:
        audit_checkpoint_soon()
    except DatabaseError:
        # Best effort: a worker that cannot reach the database now must still start (the
        # hourly schedule verifies later); raising here would kill it before it works.
        logger.exception("could not schedule the start-up audit verification (%s)", proc_name)


def connect() -> None:
    post_spawn.connect(on_cluster_worker_started, dispatch_uid="audit.verify_on_cluster_start")
