"""The steps of bench/audit_bench.py, each run in its own process after django.setup()."""

from __future__ import annotations

import gc
import json
import random
import resource
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

BATCH = 10_000
ACTIONS = [  # rough real-life mix
    ("assignment.requested", 25), ("assignment.applied", 40), ("assignment.expired", 3), ("assignment.failed", 2),
    ("assignment.cancelled", 1), ("assignment.superseded", 1), ("assignment.retried", 3), ("auth.sign_in", 8),
    ("auth.sign_out", 6), ("auth.sign_in_failed", 2), ("sync.started", 1), ("sync.finished", 1),
    ("rule.changed", 0.2), ("auth.permission_denied", 0.5), ("audit.export_downloaded", 0.05), ("auth.lockout", 0.05),
]
OUTCOMES = ["ok", "applied", "failed", "expired", "waiting", "denied"]
START = datetime(2026, 1, 1, tzinfo=UTC)  # the loaded events span START .. START + 60 days
WARM_RUNS = 9  # per filter case, after its first (cold) run, which is reported on its own


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(events: int) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection, transaction

    from wrapup_portal.audit.chain import GENESIS_HASH, HASHED_FIELDS, ROW_FIELDS, canonical_json, event_hash
    from wrapup_portal.audit.models import AuditChainHead, AuditEvent

    call_command("migrate", verbosity=0)
    have = AuditEvent.objects.count()
    if have >= events:
        # Reuse only a database this step loaded in one go: event #events at its planned time.
        expected = START + timedelta(days=60)
        last = AuditEvent.objects.filter(sequence=events).values_list("occurred_at", flat=True).first()
        if last is None or abs((last - expected).total_seconds()) > 1:
            raise SystemExit(f"{have} events, but #{events} is at {last} (expected {expected}): not this benchmark's "
                             "data; start from an empty database (delete the SQLite file / drop the PostgreSQL database)")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # statistics for any index a migration just added
        return {"loaded": 0, "events": have, "reused": True}
    head = AuditChainHead.objects.get(pk=1)
    seq, prev = head.sequence, head.hash or GENESIS_HASH
    step = timedelta(days=60) / events  # two months of traffic
    at = START + seq * step
    if head.occurred_at and head.occurred_at > at:
        # Another event (e.g. the pages step's sign-in, stamped "now") landed in a partly
        # loaded database: continuing would leave a months-long gap in the data's time span.
        raise SystemExit(f"{have} events, head at {head.occurred_at:%Y-%m-%d %H:%M}: not a clean partial load; "
                         "start from an empty database (delete the SQLite file / drop the PostgreSQL database)")
    rng = random.Random(5 + seq)
    names, weights = zip(*ACTIONS)
    insert = f"INSERT INTO audit_auditevent ({', '.join(ROW_FIELDS)}) VALUES ({', '.join(['%s'] * len(ROW_FIELDS))})"
    started = time.perf_counter()
    while seq < events:
        batch = []
        for _ in range(min(BATCH, events - seq)):
            seq += 1
            at += step
            action = rng.choices(names, weights)[0]
            user = rng.randrange(500)
            code_after = rng.randrange(200)
            values = {
                "sequence": seq, "occurred_at": at, "actor_kind": "user" if user < 450 else "rule",
                "actor_id": str(user), "actor_username": f"user{user}" if user < 450 else f"rule {user}",
                "action": action, "target_kind": "participant", "target_id": f"p-{rng.randrange(10**9)}",
                "conversation_id": f"conv-{rng.randrange(200_000):08d}", "participant_id": f"p-{rng.randrange(10**6)}",
                "queue_id": f"queue-{rng.randrange(60)}", "code_before_id": f"code-{rng.randrange(200)}",
                "code_before_name": f"Code {rng.randrange(200)}", "code_after_id": f"code-{code_after}",
                "code_after_name": f"Code {code_after}", "outcome": rng.choice(OUTCOMES), "reason": "bench",
                "source_ip": "10.0.0.1", "user_agent": "bench", "request_id": f"{seq:032x}", "correlation_id": "",
                "extra": {"n": seq % 7}, "prev_hash": prev,
            }
            values["hash"] = prev = event_hash([values[f] for f in HASHED_FIELDS])
            values["extra"] = canonical_json(values["extra"])
            values["occurred_at"] = at.isoformat() if connection.vendor == "postgresql" else at.replace(tzinfo=None).isoformat(" ")
            batch.append(tuple(values[f] for f in ROW_FIELDS))
        # Straight executemany: model instances cost more than the hashing for a million rows.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(insert, batch)
            AuditChainHead.objects.filter(pk=1).update(sequence=seq, hash=prev, occurred_at=at)
    loaded = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics, as a DBA (or `PRAGMA optimize`) would
    return {"loaded": events - have, "events": seq, "seconds": round(loaded - started, 1),
            "rows_per_second": int((events - have) / (loaded - started)), "analyze_seconds": round(time.perf_counter() - loaded, 1)}


def _time_windows(events: int) -> dict[str, str]:
    """Time ranges inside the loaded data, read from it (not assumed): a day and three weeks."""
    from wrapup_portal.audit.models import AuditEvent

    def at(fraction: float) -> str:
        sequence = max(1, int(events * fraction))
        occurred = AuditEvent.objects.filter(sequence=sequence).values_list("occurred_at", flat=True).get()
        return occurred.strftime("%Y-%m-%dT%H:%M:%S")

    return {"day": f"since={at(0.40)}&until={at(0.40 + 1 / 60)}",  # 1/60 of two months: one day
            "weeks": f"since={at(0.30)}&until={at(0.65)}"}  # three weeks


def pages(events: int) -> dict[str, Any]:
    from django.contrib.auth.models import Group, User
    from django.test import Client
    from django.test.utils import setup_test_environment

    from wrapup_portal.accounts.roles import COMPLIANCE

    setup_test_environment()
    user, _ = User.objects.get_or_create(username="bench-compliance")
    user.groups.add(Group.objects.get(name=COMPLIANCE))
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    windows = _time_windows(events)
    queries = {
        "no filter": "",
        "action": "action=assignment.failed",
        "actor": "actor=user42",
        "conversation": "conversation=conv-00012345",
        "queue": "queue=queue-7",
        "code name (4-way)": "code=Code 17",
        "code id (4-way)": "code=code-17",
        "code, no match": "code=no-such-code",
        "outcome": "outcome=expired",
        "time range (1 day)": windows["day"],
        "time+action+queue (3 weeks)": f"{windows['weeks']}&action=assignment.applied&queue=queue-3",
        "rare combination": "action=auth.lockout&outcome=denied",
        "actor+code": "actor=user7&code=code-9",
        "actor+outcome+queue": "actor=user7&outcome=failed&queue=queue-3",
        "deep page": "action=assignment.applied&before=1000",
        "older page (cursor)": f"action=assignment.failed&before={events // 2}",
    }
    results: dict[str, Any] = {
        "method": f"server time of GET /audit/ through the Django test client (no network); one request before all "
                  f"cases (templates, URLconf), then per case one first (cold) run and {WARM_RUNS} warm runs: "
                  "median and worst of the warm runs; an untimed gc.collect() before each request",
        "windows": windows,
    }
    # Without the collect, about one request in 45 paid for a full (generation 2) collection of
    # the test client's garbage, 85-120 ms measured, landing in whichever case came next on
    # either database. Count any that still happen inside a timed request.
    full_collections: list[int] = []
    gc.callbacks.append(lambda phase, info: phase == "stop" and info["generation"] == 2 and full_collections.append(1))
    client.get("/audit/?outcome=bench-warm-up&x=1", secure=True)  # the process's first request: not a query's cost
    in_timed = 0
    for name, query in queries.items():
        timings = []
        for _ in range(1 + WARM_RUNS):
            gc.collect()
            before = len(full_collections)
            started = time.perf_counter()
            response = client.get(f"/audit/?{query}&x=1", secure=True)  # HTTPS, as deployed (no SSL redirect)
            timings.append((time.perf_counter() - started) * 1000)
            in_timed += len(full_collections) - before
            assert response.status_code == 200, response.status_code
        warm = timings[1:]
        results[name] = {"cold_ms": round(timings[0], 1), "warm_median_ms": round(statistics.median(warm), 1),
                         "warm_worst_ms": round(max(warm), 1), "rows": len(response.context["page"].events)}
    results["full_gc_in_timed_requests"] = in_timed
    return results


def export(events: int) -> dict[str, Any]:
    from wrapup_portal.audit.exports import export_stream
    from wrapup_portal.audit.selectors import AuditFilter, audit_chain_head

    head = audit_chain_head()
    rss_before = _peak_mb()
    started = time.perf_counter()
    size = 0
    manifests: list[dict[str, Any]] = []
    for chunk in export_stream(fmt="csv", filters=AuditFilter(), head_sequence=head.sequence, head_hash=head.hash,
                               export_event=0, generated_by="bench", on_complete=manifests.append):
        size += len(chunk)
    seconds = time.perf_counter() - started
    rows = manifests[0]["row_count"]
    return {"rows": rows, "seconds": round(seconds, 1), "rows_per_second": int(rows / seconds),
            "megabytes": round(size / 2**20), "peak_rss_mb": round(_peak_mb()), "rss_before_mb": round(rss_before)}


def verify(events: int) -> dict[str, Any]:
    from wrapup_portal.audit.verification import audit_chain_verify

    started = time.perf_counter()
    result = audit_chain_verify()
    return {"ok": result.ok, "events": result.checked, "seconds": round(time.perf_counter() - started, 1),
            "peak_rss_mb": round(_peak_mb())}
