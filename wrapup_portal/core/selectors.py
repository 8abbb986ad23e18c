"""Reads for the health endpoint and the system status page."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils import timezone

from wrapup_portal.core.models import Heartbeat

CLUSTER_HEARTBEAT = "qcluster"
GENESYS_CHECK_CACHE_KEY = "health:genesys"
# /healthz may be polled every few seconds; the token check costs one API call, so reuse it.
GENESYS_CHECK_TTL_SECONDS = 60


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok", "down" or "skipped"
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


def database_check() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return Check("database", "down", f"{type(exc).__name__}: {exc}")
    return Check("database", "ok", connection.vendor)


def cluster_check() -> Check:
    beat = Heartbeat.objects.filter(name=CLUSTER_HEARTBEAT).first()
    if beat is None:
        return Check("cluster", "down", "No heartbeat yet: is `python manage.py qcluster` running?")
    age = (timezone.now() - beat.beat_at).total_seconds()
    limit = settings.HEALTH_HEARTBEAT_MAX_AGE_SECONDS
    status = "ok" if age <= limit else "down"
    detail = f"last heartbeat {age:.0f} s ago" + ("" if status == "ok" else f" (limit {limit} s)")
    return Check("cluster", status, detail, {"age_seconds": round(age, 1), "beat_at": beat.beat_at.isoformat()})


def genesys_check(*, use_cache: bool = True) -> Check:
    if not (settings.GENESYS_CLIENT_ID and settings.GENESYS_CLIENT_SECRET):
        return Check("genesys", "skipped", "GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET are not set.")
    if use_cache and (cached := cache.get(GENESYS_CHECK_CACHE_KEY)) is not None:
        return Check(**cached)
    # Imported here: the client is only needed when the check actually runs.
    from integrations.genesys import GenesysError, RetryPolicy
    from wrapup_portal.core.genesys import get_genesys_client

    try:
        # One attempt: a health probe must answer quickly, not wait out retries.
        info = get_genesys_client().with_retry(RetryPolicy(max_attempts=1)).token_info()
    except GenesysError as exc:
        check = Check("genesys", "down", str(exc), {"api_url": settings.GENESYS_API_URL})
    else:
        check = Check(
            "genesys",
            "ok",
            f"token valid for organization {info.organization_name}",
            {"api_url": settings.GENESYS_API_URL, "organization": info.organization_name, "scopes": list(info.scopes)},
        )
    cache.set(GENESYS_CHECK_CACHE_KEY, asdict(check), GENESYS_CHECK_TTL_SECONDS)
    return check


@dataclass(frozen=True)
class ScheduleInfo:
    name: str
    every_minutes: int | None
    next_run: Any
    last_result: str  # "succeeded", "failed" or "" (not run yet)
    last_run_at: Any


def schedule_list() -> list[ScheduleInfo]:
    """The cluster's schedules with the outcome of their latest run (for the status page)."""
    from django_q.models import Schedule, Task

    schedules = list(Schedule.objects.order_by("name"))
    tasks = {t.id: t for t in Task.objects.filter(id__in=[s.task for s in schedules if s.task])}
    infos = []
    for schedule in schedules:
        task = tasks.get(schedule.task)
        result = "" if task is None else "succeeded" if task.success else "failed"
        infos.append(ScheduleInfo(schedule.name or schedule.func, schedule.minutes, schedule.next_run, result,
                                  task.stopped if task else None))
    return infos


def health_report(*, use_cache: bool = True) -> tuple[bool, list[Check]]:
    """Every check, and whether the portal as a whole is healthy (skipped checks do not count)."""
    checks = [database_check(), cluster_check(), genesys_check(use_cache=use_cache)]
    return all(check.status != "down" for check in checks), checks
