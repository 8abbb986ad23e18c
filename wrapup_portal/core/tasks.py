"""Background tasks of the core app (django-q2). Plain functions, safe to run twice."""

from __future__ import annotations

import os
import socket

from wrapup_portal.core.selectors import CLUSTER_HEARTBEAT
from wrapup_portal.core.services import heartbeat_record


def cluster_heartbeat() -> None:
    """Scheduled every minute: proves to /healthz that the cluster runs its schedules."""
    heartbeat_record(name=CLUSTER_HEARTBEAT, detail=f"{socket.gethostname()} pid {os.getpid()}")
