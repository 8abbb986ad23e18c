"""The steps of bench/audit_bench.py, each run in its own process after django.setup()."""

from __future__ import annotations

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


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load(events: int) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection, transaction

    from wrapup_portal.audit.chain import GENESIS_HASH, HASHED_FIELDS, ROW_FIELDS, CanonicalJSONEncoder, event_hash
    from wrapup_portal.audit.models import AuditChainHead, AuditEvent

    call_command("migrate", verbosity=0)
    have = AuditEvent.objects.count()
    if have >= events:
        return {"loaded": 0, "events": have}
    rng = random.Random(5)
    head = AuditChainHead.objects.get(pk=1)
    seq, prev = head.sequence, head.hash or GENESIS_HASH
    at = head.occurred_at or datetime(2026, 1, 1, tzinfo=UTC)
    step = timedelta(days=60) / events  # two months of traffic
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
            values["extra"] = json.dumps(values["extra"], cls=CanonicalJSONEncoder)
            values["occurred_at"] = at.isoformat() if connection.vendor == "postgresql" else at.replace(tzinfo=None).isoformat(" ")
            batch.append(tuple(values[f] for f in ROW_FIELDS))
        # Straight executemany: model instances cost more than the hashing for a million rows.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(insert, batch)
            AuditChainHead.objects.filter(pk=1).update(sequence=seq, hash=prev, occurred_at=at)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics, as a DBA (or `PRAGMA optimize`) would
    return {"loaded": events - have, "events": seq, "seconds": round(time.perf_counter() - started, 1)}


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
    queries = {
        "no filter": "",
        "action": "action=assignment.failed",
        "actor": "actor=user42",
        "conversation": "conversation=conv-00012345",
        "queue": "queue=queue-7",
        "code (4-way)": "code=Code 17",
        "outcome": "outcome=expired",
        "time range": "since=2026-01-20T00:00&until=2026-01-21T00:00",
        "time+action+queue": "since=2026-01-20T00:00&until=2026-02-10T00:00&action=assignment.applied&queue=queue-3",
        "rare combination": "action=auth.lockout&outcome=denied",
        "actor+code": "actor=user7&code=code-9",
        "deep page": "action=assignment.applied&before=1000",
    }
    results = {}
    for name, query in queries.items():
        timings = []
        for _ in range(7):
            started = time.perf_counter()
            response = client.get(f"/audit/?{query}&x=1")
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        results[name] = {"median_ms": round(statistics.median(timings), 1), "max_ms": round(max(timings), 1),
                         "rows": len(response.context["page"].events)}
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
