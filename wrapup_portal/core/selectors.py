"""Reads for the health endpoint and the system status page."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils import timezone
from django_q.models import Schedule, Task

from wrapup_portal.core.models import Heartbeat

CLUSTER_HEARTBEAT = "qcluster"
GENESYS_CHECK_CACHE_KEY = "health:genesys"
# /healthz may be polled every few seconds; the token check costs one API call, so reuse it.
GENESYS_CHECK_TTL_SECONDS = 60
# A check's status as anonymous callers of /healthz see it.
CHECK_STATES = {"ok": "up", "down": "down", "skipped": "skipped"}


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # "ok", "down" or "skipped"
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def facts(self) -> list[tuple[str, str]]:
        """``data`` as (label, text) pairs for the status page."""
        return [(key.replace("_", " "), ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value))
                for key, value in self.data.items()]


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
    # Imported here: the client is only needed when the check actually runs.
    from integrations.genesys import GenesysError, RetryPolicy
    from wrapup_portal.core.genesys import genesys_missing_settings, genesys_not_configured_message, get_genesys_client

    # Not configured is down, not skipped: a portal without Genesys cannot do its job, and a
    # deployment that forgot its variables must not look healthy to its load balancer.
    if missing := genesys_missing_settings():
        return Check("genesys", "down", genesys_not_configured_message(missing), {"missing": missing})
    if use_cache and (cached := cache.get(GENESYS_CHECK_CACHE_KEY)) is not None:
        return Check(**cached)
    hosts = {"api_url": settings.GENESYS_API_URL, "login_url": settings.GENESYS_LOGIN_URL}
    try:
        # One attempt: a health probe must answer quickly, not wait out retries.
        info = get_genesys_client().with_retry(RetryPolicy(max_attempts=1)).token_info()
    except GenesysError as exc:
        check = Check("genesys", "down", str(exc), hosts)
    else:
        check = Check(
            "genesys",
            "ok",
            f"token valid for organization {info.organization_name}",
            {**hosts, "organization": info.organization_name, "scopes": list(info.scopes)},
        )
    cache.set(GENESYS_CHECK_CACHE_KEY, asdict(check), GENESYS_CHECK_TTL_SECONDS)
    return check


@dataclass(frozen=True)
class ScheduleInfo:
    name: str
    every: str  # "1 min", "hour", "cron 0 3 * * *", ...
    next_run: Any
    last_result: str  # "succeeded", "failed" or "" (not run yet)
    last_run_at: Any


# django-q2's schedule types (django_q.models.Schedule.TYPE) as the "every" column says them.
SCHEDULE_EVERY = {Schedule.ONCE: "once (not repeated)", Schedule.HOURLY: "hour", Schedule.DAILY: "day",
                  Schedule.WEEKLY: "week", Schedule.BIWEEKLY: "2 weeks", Schedule.MONTHLY: "month",
                  Schedule.BIMONTHLY: "2 months", Schedule.QUARTERLY: "quarter", Schedule.YEARLY: "year"}


def schedule_every(*, schedule_type: str, minutes: int | None, cron: str | None) -> str:
    """How often a schedule runs, as text: only MINUTES schedules have a number of minutes."""
    if schedule_type == Schedule.MINUTES:
        return f"{minutes} min" if minutes else "minute"
    if schedule_type == Schedule.CRON:
        return f"cron {cron}" if cron else "cron"
    return SCHEDULE_EVERY.get(schedule_type, schedule_type)


def schedule_list() -> list[ScheduleInfo]:
    """The cluster's schedules with the outcome of their latest run (for the status page)."""
    schedules = list(Schedule.objects.order_by("name"))
    tasks = {t.id: t for t in Task.objects.filter(id__in=[s.task for s in schedules if s.task])}
    infos = []
    for schedule in schedules:
        task = tasks.get(schedule.task)
        result = "" if task is None else "succeeded" if task.success else "failed"
        every = schedule_every(schedule_type=schedule.schedule_type, minutes=schedule.minutes, cron=schedule.cron)
        infos.append(ScheduleInfo(schedule.name or schedule.func, every, schedule.next_run, result,
                                  task.stopped if task else None))
    return infos


def health_report(*, use_cache: bool = True) -> tuple[bool, list[Check]]:
    """Every check, and whether the portal as a whole is healthy (skipped checks do not count)."""
    checks = [database_check(), cluster_check(), genesys_check(use_cache=use_cache)]
    return all(check.status != "down" for check in checks), checks


def health_summary(healthy: bool, checks: list[Check], *, detail: bool) -> dict[str, Any]:
    """The /healthz body. Without ``detail`` only up/down per check: what a load balancer needs,
    and nothing about the organisation, its scopes, its hosts or error texts for anonymous callers."""
    body: dict[str, Any] = {"status": "ok" if healthy else "down"}
    if detail:
        body["checks"] = {c.name: {"status": c.status, "detail": c.detail, **c.data} for c in checks}
    else:
        body["checks"] = {c.name: CHECK_STATES.get(c.status, "down") for c in checks}
    return body
