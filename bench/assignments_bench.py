"""Assignments benchmark: one bulk job over legs in ACW at the sandbox's default quota (issue 13, Performance).

    .venv/bin/python bench/assignments_bench.py                 # 1,000 legs, 300 requests/min: ~3.5 min
    .venv/bin/python bench/assignments_bench.py --quick         # 100 legs, 1,200 requests/min: < 1 min
    .venv/bin/python bench/assignments_bench.py --legs 500 --rate-limit 300 --workers 4
    .venv/bin/python bench/assignments_bench.py --database-url postgres://user:pw@host/db
    .venv/bin/python bench/assignments_bench.py --fault-mix --json-out bench/out/engine-faults.json

The sandbox runs in this process (no live traffic; quota per token as ``--rate-limit`` per
``--window`` seconds, default 300/60 s as Genesys documents). The portal is the real thing:
``manage.py qcluster`` with ``--workers`` worker processes on the database, the portal's own
Genesys client in each (one token and one pacing state shared through the database cache). The
bench makes the legs, syncs the catalog, then, as the bulk page does, previews them
(``bulk_preview``: one analytics read per 100 conversations) and queues them as one job
(``bulk_job_create``), and waits until every assignment is final.

Figures (targets from issue 13): assignments per minute per OAuth client (job queued → last
assignment final; ≥ 270 at 300/min), API calls per assignment (preview reads, writes,
read-backs and retries, over the job's assignments; ≤ 1.1), legs written more than once (0),
assignments lost (not applied, or the leg not carrying the code; 0), requests sent inside a
served Retry-After (0), share of requests answered 429 (< 1 %). Exit status 1 when one is missed.
``--fault-mix`` (issue 16: 10 % of API answers a 5xx, tokens that expire every minute) keeps the
targets on duplicates, losses and 429s; its throughput and calls per assignment are information
(every 5xx costs quota and a read-back, and its retry waits for the sweeper).

Also printed, without a target: the requests the sandbox counted in each of its own quota
windows (a fixed window opens at the first request after the last one closed, so a job that
starts inside a window opened by the catalog sync can beat the per-minute figure for a while;
"quota used in full windows" is the sustained figure), how long one leg requested alone
``--single-after`` seconds into the job took (it queues behind the job's tasks), and the oldest
cluster heartbeat ``/healthz`` saw during the run (the heartbeat task queues behind them too).
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import math
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "bench" / "out" / "assignments-bench.sqlite3"
sys.path.insert(0, str(ROOT))

from bench.catalog_sync import setup_django  # noqa: E402

RATE_SHARE = 0.9  # of the quota, as assignments per minute per OAuth client: 270 at 300 requests per minute
CALLS_TARGET = 1.1
RATE_LIMITED_TARGET = 0.01
# Issue 16's fault mix, the same for the engine and bench/baseline_script.py: 10 % of API answers a
# 5xx, and tokens that expire every minute.
FAULT_MIX = {"error_rate": 0.1, "token_lifetime_seconds": 60}
SANDBOX_SEED = 13


def parse_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class Sandbox:
    """The in-process sandbox, spoken to over HTTP like the portal does."""

    def __init__(self, args: argparse.Namespace) -> None:
        from integrations.genesys_sandbox import OrgSpec, SandboxConfig, SandboxServer

        org = OrgSpec(queues=4, codes=20, agents=30, days=1, conversations=0, deleted_codes=0)
        faults = FAULT_MIX if getattr(args, "fault_mix", False) else {}
        config = SandboxConfig(rate_limit=args.rate_limit, rate_window_seconds=args.window, latency_ms=args.latency_ms,
                               **faults)  # fmt: skip
        self.server = SandboxServer(port=0, seed=SANDBOX_SEED, live=False, org=org, config=config)
        self.http = requests.Session()

    def control(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = self.http.request(method, f"{self.server.url}/__sandbox/{path}", json=body, params=params, timeout=60)
        response.raise_for_status()
        return response.json()

    def make_legs(self, count: int) -> tuple[str, list[tuple[str, str]]]:
        """``count`` agent legs in ACW on the first queue with a mandatory wrap-up, and the code to put on them.

        The engine's run and the baseline script's make theirs with this, on identically seeded sandboxes.
        """
        queue = next(q for q in self.control("GET", "org")["queues"] if q["wrapupPrompt"] == "MANDATORY")
        legs = []
        for _ in range(count):
            conversation = self.control("POST", "conversations", {"queueId": queue["id"], "state": "acw"})
            legs.append((conversation["id"], next(p["id"] for p in conversation["participants"] if p["purpose"] == "agent")))
        return queue["codeIds"][0], legs

    def carried(self) -> dict[tuple[str, str], str | None]:
        """Ground truth: the code each agent leg carries now."""
        return {(leg["conversationId"], leg["participantId"]): leg["wrapupCode"] for leg in self.control(
            "GET", "legs", start="2000-01-01T00:00:00Z", end="2100-01-01T00:00:00Z")}  # fmt: skip


class Cluster:
    """``manage.py qcluster`` in a process group of its own (stopped with it)."""

    def __init__(self, workers: int, log: Path) -> None:
        env = dict(os.environ, PORTAL_Q_WORKERS=str(workers))
        self.log = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "qcluster"], cwd=ROOT, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip

    def wait_ready(self, seconds: float = 60) -> float:
        """Seconds until the cluster has run a first (trivial) task."""
        from django_q.tasks import async_task, result

        started = time.monotonic()
        task_id = async_task("math.sqrt", 4.0, group="bench-ping")
        while result(task_id) is None:
            if self.process.poll() is not None or time.monotonic() - started > seconds:
                raise SystemExit(f"the cluster did not start; see {self.log.name}")
            time.sleep(0.2)
        return time.monotonic() - started

    def stop(self) -> None:
        """SIGTERM to the sentinel alone (it stops its workers and monitor; signalling the whole
        group at once leaves it waiting for children that are gone), then SIGKILL to the group."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.log.close()


def cluster_log(database_url: str) -> Path:
    """The cluster's log file: beside a SQLite database (two runs at once keep apart), else in bench/out."""
    if database_url.startswith("sqlite:///"):
        database = Path(database_url.removeprefix("sqlite:///"))
        return database.with_name(f"{database.stem}-qcluster.log")
    return DEFAULT_DB.parent / "assignments-bench-qcluster.log"


def replay_windows(log: list[dict[str, Any]], window: float) -> tuple[list[list[float]], list[tuple[float, float]]]:
    """The sandbox's fixed quota windows, replayed from its request log (per token, as its limiter counts).

    Returns the windows as ``[start, requests]`` and the 429s as ``(served at, Retry-After)``: the
    log does not carry the Retry-After each 429 was served with, but a 429 at ``t`` in a window
    that started at ``start`` was told ``max(1, ceil(start + window - t))`` seconds.
    """
    windows: dict[str, list[float]] = {}
    every: list[list[float]] = []
    waits: list[tuple[float, float]] = []
    for entry in sorted((r for r in log if r["path"].startswith("/api/")), key=lambda r: r["t"]):
        token = entry["token"]
        if token is None:
            continue  # refused before the limiter counted it (a 401)
        current = windows.get(token)
        if current is None or entry["t"] >= current[0] + window:
            current = windows[token] = [entry["t"], 0]
            every.append(current)
        current[1] += 1
        if entry["status"] == 429:
            waits.append((entry["t"], float(max(1, math.ceil(current[0] + window - entry["t"])))))
    return every, waits


def inside_retry_after(log: list[dict[str, Any]], waits: list[tuple[float, float]]) -> int:
    """API requests logged after a 429 was served and before its Retry-After was over, whatever their token."""
    api = [r["t"] for r in log if r["path"].startswith("/api/")]
    return sum(1 for t, wait in waits for sent in api if t < sent < t + wait)


def run(args: argparse.Namespace, sandbox: Sandbox) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db.models import Max

    from wrapup_portal.assignments.models import LIVE_STATES, Assignment, Source, State
    from wrapup_portal.assignments.services import Requester, Wanted, assignment_request, bulk_job_create, bulk_preview
    from wrapup_portal.core.selectors import CLUSTER_HEARTBEAT, cluster_check
    from wrapup_portal.core.services import heartbeat_record

    call_command("migrate", verbosity=0)
    call_command("sync_catalog", stdout=io.StringIO())
    code, legs = sandbox.make_legs(args.legs + 1)  # the last one: a single request made while the job runs
    legs, single_leg = legs[:-1], legs[-1]

    cluster = Cluster(args.workers, cluster_log(args.database_url))
    single: dict[str, Any] = {}
    heartbeat_ages: list[float] = []
    try:
        ready = cluster.wait_ready()
        heartbeat_record(name=CLUSTER_HEARTBEAT, detail="bench")  # as a cluster that has been running would have
        before = sandbox.control("GET", "stats")
        log_from = time.time()
        requester = Requester.cli()
        preview = bulk_preview(wanted=[Wanted(cid, pid, code) for cid, pid in legs], requester=requester)
        job = bulk_job_create(preview=preview, requester=requester, source=Source.BULK, reason="benchmark")
        queued_at = time.time()  # the job's tasks are in the broker (queued on commit)
        deadline = time.monotonic() + max(120.0, 3 * args.legs * 1.1 / args.rate_limit * args.window + 60)
        assignments = Assignment.objects.filter(job=job)
        while time.monotonic() < deadline:
            if args.single_after and not single and time.time() - queued_at >= args.single_after:
                # What a person asking for one leg on the assignment page meets while the job runs.
                single = {"requested_after_seconds": round(time.time() - queued_at, 1), "at": time.time(),
                          "assignment": assignment_request(conversation_id=single_leg[0], participant_id=single_leg[1],
                                                           code=code, requester=requester)}  # fmt: skip
            check = cluster_check()
            heartbeat_ages.append(check.data.get("age_seconds", float("inf")) if check.data else float("inf"))
            if not assignments.filter(state__in=LIVE_STATES).exists():
                if not single or Assignment.objects.get(pk=single["assignment"].pk).state not in LIVE_STATES:
                    break
            time.sleep(0.5)
        finished = assignments.aggregate(last=Max("finished_at"))["last"]
    finally:
        stopping = time.monotonic()
        cluster.stop()  # its monitor saves the last task results on the way out
        stop_seconds = time.monotonic() - stopping

    after = sandbox.control("GET", "stats")
    full_log = [dict(r, t=parse_time(r["time"])) for r in sandbox.control("GET", "requests")]
    log = [r for r in full_log if r["t"] >= log_from - 0.001]
    api = [r for r in log if r["path"].startswith("/api/")]
    job_conversations = {cid for cid, _ in legs}
    # The job's calls: the preview's analytics reads, and every call naming one of its conversations.
    is_job_call = [("/analytics/" in r["path"] or _conversation_of(r["path"]) in job_conversations) for r in api]
    job_calls = [r for r, mine in zip(api, is_job_call) if mine]
    total = assignments.count()
    applied = assignments.filter(state=State.APPLIED).count()
    ours = set(legs)
    carried = sandbox.carried()
    writes = after["writes"]
    end = finished.timestamp() if finished else time.time()
    elapsed = end - queued_at
    windows, waits = replay_windows(full_log, args.window)
    during = [w for w in windows if w[0] + args.window > log_from and w[0] < end]
    full = [w for w in during if w[0] >= queued_at and w[0] + args.window <= end]
    writes_sent = sorted(r["t"] for r in job_calls if r["method"] == "PATCH")
    writes_applied = sorted(r["t"] - queued_at for r in job_calls if r["method"] == "PATCH" and r["status"] < 300)
    figures: dict[str, Any] = {
        "database": _vendor(), "legs": args.legs, "workers": args.workers,
        "quota": f"{args.rate_limit} requests / {args.window:g} s per token",
        "faults": FAULT_MIX if args.fault_mix else {},
        "cluster_ready_seconds": round(ready, 1), "cluster_stop_seconds": round(stop_seconds, 1),
        "elapsed_seconds": round(elapsed, 1), "assignments": total, "applied": applied,
        "states": dict(collections.Counter(assignments.values_list("state", flat=True))),
        "assignments_per_minute": round(applied / elapsed * 60, 1) if elapsed > 0 else 0.0,
        "first_to_last_write_per_minute": round((len(writes_sent) - 1) / (writes_sent[-1] - writes_sent[0]) * 60, 1)
        if len(writes_sent) > 1 else None,
        "requests_per_quota_window": [int(w[1]) for w in during],
        "quota_used_in_full_windows": round(sum(w[1] for w in full) / (len(full) * args.rate_limit), 3) if full else None,
        "job_api_calls": len(job_calls), "calls_per_assignment": round(len(job_calls) / max(total, 1), 3),
        "job_calls_by_kind": dict(collections.Counter(f"{r['method']} {_kind(r['path'])}" for r in job_calls)),
        "other_api_calls": dict(collections.Counter(f"{r['method']} {_kind(r['path'])}"
                                                    for r, mine in zip(api, is_job_call) if not mine)),  # fmt: skip
        "token_requests": sum(1 for r in log if r["path"].startswith("/oauth")),
        "duplicates": sum(1 for cid, pid in legs if writes.get(f"{cid}/{pid}", 0) > 1),
        "lost": len(ours - set(assignments.filter(state=State.APPLIED).values_list("conversation_id", "participant_id"))
                    | {leg for leg in ours if carried.get(leg) != code}),
        "rate_limited": after["rate_limited"] - before["rate_limited"],
        "rate_limited_share": round((after["rate_limited"] - before["rate_limited"]) / max(len(api), 1), 4),
        "inside_retry_after": inside_retry_after(log, [w for w in waits if w[0] >= log_from]),
        "longest_retry_after_served": max((w for t, w in waits if t >= log_from), default=0.0),
        "unauthorized_401": sum(1 for r in api if r["status"] == 401),
        "broker": _tasks_since(log_from),
        "cluster_heartbeat_oldest_seen_seconds": round(max(heartbeat_ages, default=0.0), 1),
        "writes_sent": len(writes_sent),
        "server_5xx": sum(1 for r in api if r["status"] >= 500),
        # Samples for bench/report.py's plots: seconds after the job was queued.
        "samples": {"writes_applied_at": [round(t, 3) for t in writes_applied],
                    "rate_limited_at": [round(r["t"] - queued_at, 3) for r in api if r["status"] == 429]},
    }
    if single:
        row = Assignment.objects.get(pk=single["assignment"].pk)
        figures["single_request_during_job"] = {
            "requested_after_seconds": single["requested_after_seconds"], "state": row.state,
            "seconds_to_final": round(row.finished_at.timestamp() - single["at"], 1) if row.finished_at else None}
    return figures


def _conversation_of(path: str) -> str:
    """The conversation id in ``/api/v2/conversations/{id}…``, else ""."""
    parts = path.split("?")[0].split("/")
    return parts[4] if len(parts) > 4 and parts[3] == "conversations" else ""


def _kind(path: str) -> str:
    path = path.split("?")[0]
    if "/analytics/" in path:
        return "analytics details"
    if "/participants/" in path and path.endswith("/wrapupcodes"):
        return "participant codes"
    if "/participants/" in path:
        return "participant write"
    if path.startswith("/api/v2/conversations/"):
        return "conversation read"
    return path


def _tasks_since(since: float) -> dict[str, Any]:
    """What the broker ran from ``since`` on, and how long scheduled tasks waited in its queue.

    django-q2 stamps ``started`` when a task is queued, so ``stopped - started`` of a task that
    takes milliseconds is its wait behind the tasks queued before it.
    """
    from datetime import UTC

    from django_q.models import Task

    tasks = Task.objects.filter(started__gte=datetime.fromtimestamp(since, tz=UTC))
    chunks = tasks.filter(func__endswith="assignments_execute_task")
    scheduled = tasks.filter(func__in=["wrapup_portal.assignments.tasks.assignments_sweep",
                                       "wrapup_portal.core.tasks.cluster_heartbeat"])  # fmt: skip
    return {"chunks_run": chunks.count(), "failed": tasks.filter(success=False).count(),
            "assignments_run": sum(len(t.args[0]) for t in chunks if t.args),
            "sweeps": tasks.filter(func__endswith="assignments_sweep").count(),
            "longest_queue_wait_of_a_scheduled_task_seconds": round(max(
                ((t.stopped - t.started).total_seconds() for t in scheduled), default=0.0), 1)}  # fmt: skip


def _vendor() -> str:
    from django.db import connection

    return connection.vendor


def report(figures: dict[str, Any], per_minute_quota: float) -> bool:
    rate_target = RATE_SHARE * per_minute_quota
    faults = bool(figures.get("faults"))  # no throughput or cost target under the fault mix
    checks = [
        ("assignments / minute / OAuth client", f">= {rate_target:g}" if not faults else "-",
         figures["assignments_per_minute"], faults or figures["assignments_per_minute"] >= rate_target),
        ("API calls / assignment", f"<= {CALLS_TARGET:g}" if not faults else "-", figures["calls_per_assignment"],
         faults or figures["calls_per_assignment"] <= CALLS_TARGET),
        ("legs written twice", "0", figures["duplicates"], figures["duplicates"] == 0),
        ("assignments lost", "0", figures["lost"], figures["lost"] == 0),
        ("requests inside a served Retry-After", "0", figures["inside_retry_after"], figures["inside_retry_after"] == 0),
        ("requests answered 429", f"< {RATE_LIMITED_TARGET:.0%}", f"{figures['rate_limited_share']:.2%}",
         figures["rate_limited_share"] < RATE_LIMITED_TARGET),
    ]  # fmt: skip
    single = figures.get("single_request_during_job") or {}
    notes = [
        ("quota used in full windows", figures["quota_used_in_full_windows"]),
        ("one leg requested alone during the job: s", single.get("seconds_to_final", "-")),
        ("oldest cluster heartbeat seen: s", figures["cluster_heartbeat_oldest_seen_seconds"]),
    ]
    print(json.dumps({k: v for k, v in figures.items() if k != "samples"}, indent=2))
    print(f"\n{'figure':<42} {'target':>10} {'measured':>10}  pass")
    for name, target, measured, ok in checks:
        print(f"{name:<42} {target:>10} {str(measured):>10}  {'yes' if ok else 'NO'}")
    for name, measured in notes:
        print(f"{name:<42} {'-':>10} {str(measured):>10}  (information)")
    return all(ok for *_, ok in checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--legs", type=int, default=None, help="legs in ACW in the job (default 1,000; --quick 100)")
    parser.add_argument("--quick", action="store_true", help="100 legs at 1,200 requests/min: the pipeline, not the quota")
    parser.add_argument("--rate-limit", type=int, default=None, help="requests per window per token (default 300)")
    parser.add_argument("--window", type=float, default=60.0, help="quota window in seconds")
    parser.add_argument("--workers", type=int, default=2, help="qcluster worker processes (PORTAL_Q_WORKERS)")
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every sandbox answer")
    parser.add_argument("--single-after", type=float, default=None,
                        help="seconds into the job to request one more leg alone, as a person would "
                        "(default 10; --quick 0.5; 0: none)")
    parser.add_argument("--fault-mix", action="store_true",
                        help="10 %% of API answers a 5xx and tokens that expire every minute (issue 16)")
    parser.add_argument("--database-url", default=f"sqlite:///{DEFAULT_DB}")
    parser.add_argument("--json-out", type=Path, help="also write the figures (and samples for plots) here as JSON")
    args = parser.parse_args()
    args.legs = args.legs or (100 if args.quick else 1000)
    args.rate_limit = args.rate_limit or (1200 if args.quick else 300)
    args.single_after = (0.5 if args.quick else 10.0) if args.single_after is None else args.single_after

    DEFAULT_DB.parent.mkdir(parents=True, exist_ok=True)
    if args.database_url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(args.database_url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    sandbox = Sandbox(args)
    sandbox.server.start()
    try:
        setup_django(args.database_url, sandbox.server.url, sandbox.server.login_url)
        figures = run(args, sandbox)
    finally:
        sandbox.server.stop()
    ok = report(figures, args.rate_limit / args.window * 60)
    if args.json_out:
        figures["knobs"] = {"legs": args.legs, "rate_limit": args.rate_limit, "window_seconds": args.window,
                            "workers": args.workers, "fault_mix": args.fault_mix, "seed": SANDBOX_SEED}
        figures["targets"] = {"assignments_per_minute": RATE_SHARE * args.rate_limit / args.window * 60,
                              "calls_per_assignment": CALLS_TARGET, "rate_limited_share": RATE_LIMITED_TARGET}
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(figures, indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
