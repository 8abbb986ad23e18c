"""Rules latency: from the sandbox delivering ``user.end`` to the sandbox receiving the rule's write (issue 14).

    .venv/bin/python bench/rules_latency.py                  # 500 events, one every 0.1 s, 2 workers
    .venv/bin/python bench/rules_latency.py --events 100 --interval 0.05 --workers 4
    .venv/bin/python bench/rules_latency.py --poller        # events off: the poller codes the legs

The sandbox runs in this process, its webhook pointed at the portal's hook; the portal's WSGI app
is served from this process too (threads), and the cluster is the real one (``manage.py qcluster``
on the same SQLite file). One enabled rule covers a queue without an ACW time-out; each event is
a conversation moved from connected to ACW, which makes the sandbox emit ``user.end``. The clock
starts when the sandbox's delivery thread takes the event (its ``_deliver`` is wrapped) and stops
at the write's entry in the sandbox's request log. The sandbox's quota is raised out of the way
(each event costs four API calls: two reads of the leg, its codes, the write), so the figure is
the portal's own latency. Target (issue 14): p95 under 1 s on SQLite. Exit 1 when missed.

``--poller``: no webhook; legs are made in ACW and the poller task is run once a minute as the
cluster's schedule would; the figure is the time to the write, target the interval plus 5 s.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "bench" / "out" / "rules-latency.sqlite3"
sys.path.insert(0, str(ROOT))

from bench.assignments_bench import Cluster, cluster_log  # noqa: E402
from bench.catalog_sync import setup_django  # noqa: E402

SECRET = "bench-webhook-secret"
TARGET_P95 = 1.0


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def parse_time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between events")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--poller", action="store_true", help="events off: measure the polling safety net")
    parser.add_argument("--database-url", default=f"sqlite:///{DEFAULT_DB}", help="a SQLite file is emptied first")
    parser.add_argument("--json-out", type=Path, help="also write the figures (and each latency, for plots) here as JSON")
    args = parser.parse_args()

    from integrations.genesys_sandbox import OrgSpec, SandboxConfig, SandboxServer

    org = OrgSpec(queues=4, codes=20, agents=30, days=1, conversations=0, deleted_codes=0)
    server = SandboxServer(port=0, seed=14, live=False, org=org, config=SandboxConfig(rate_limit=1_000_000))
    server.start()
    DEFAULT_DB.parent.mkdir(parents=True, exist_ok=True)
    if args.database_url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(args.database_url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    # No per-address limit on the hook: every event comes from this one address, and the figure is latency.
    os.environ.update(WRAPUP_WEBHOOK_SECRET=SECRET, DJANGO_ALLOWED_HOSTS="127.0.0.1", WRAPUP_WEBHOOK_RATE_PER_MINUTE="0",
                      DJANGO_SECURE_SSL_REDIRECT="0", PORTAL_Q_WORKERS=str(args.workers))  # fmt: skip
    setup_django(args.database_url, server.url, server.login_url)
    try:
        figures = run(args, server)
    finally:
        server.stop()
    print(json.dumps({k: v for k, v in figures.items() if k != "samples"}, indent=2))
    if args.json_out:
        figures["knobs"] = {"events": args.events, "interval_seconds": args.interval, "workers": args.workers,
                            "poller": args.poller, "seed": 14}
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(figures, indent=2))
    sys.exit(0 if figures["target_met"] else 1)


def run(args: argparse.Namespace, server: Any) -> dict[str, Any]:
    import requests
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command

    from wrapup_portal.assignments.models import Assignment, Rule, State
    from wrapup_portal.assignments.poller import legs_poll_safely
    from wrapup_portal.catalog.models import CodeGroup, WrapupCode

    call_command("migrate", verbosity=0)
    call_command("sync_catalog", stdout=io.StringIO())
    http = requests.Session()

    def control(method: str, path: str, body: Any = None) -> Any:
        response = http.request(method, f"{server.url}/__sandbox/{path}", json=body, timeout=60)
        response.raise_for_status()
        return response.json()

    queue = next(q for q in control("GET", "org")["queues"] if q["wrapupPrompt"] == "MANDATORY")
    Rule.objects.create(name="bench", queue=CodeGroup.objects.get(queue_id=queue["id"]),
                        code=WrapupCode.objects.get(code_id=queue["codeIds"][0]))  # fmt: skip

    portal = make_server("127.0.0.1", 0, WSGIHandler(), server_class=ThreadingWSGIServer, handler_class=QuietHandler)
    threading.Thread(target=portal.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{portal.server_address[1]}/hooks/genesys/events"

    delivered: dict[str, float] = {}  # conversation id -> when the sandbox's sender took its user.end
    sender = server.app.webhook
    original = sender._deliver

    def timed(job: dict[str, Any]) -> int | None:
        if job["topic"].endswith(".user.end"):
            delivered[job["topic"].split(".")[-3]] = time.time()
        return original(job)

    sender._deliver = timed
    cluster = Cluster(args.workers, cluster_log(args.database_url))
    legs: list[tuple[str, str]] = []
    try:
        cluster.wait_ready()
        if not args.poller:
            control("POST", "config", {"webhook_url": hook, "webhook_secret": SECRET, "webhook_format": "bare"})
        started = time.time()
        for _ in range(args.events):
            conversation = control("POST", "conversations", {"queueId": queue["id"],
                                                             "state": "acw" if args.poller else "connected"})  # fmt: skip
            pid = next(p["id"] for p in conversation["participants"] if p["purpose"] == "agent")
            legs.append((conversation["id"], pid))
            if args.poller:
                delivered[conversation["id"]] = time.time()
            else:
                control("POST", f"conversations/{conversation['id']}/advance", {})
            time.sleep(args.interval)
        if args.poller:  # as the schedule would: one poll now (the legs are there), then every minute
            print("poll:", legs_poll_safely(), file=sys.stderr)
        deadline = time.monotonic() + 120
        mine = Assignment.objects.filter(conversation_id__in=[cid for cid, _ in legs])
        while time.monotonic() < deadline and mine.filter(state=State.APPLIED).count() < len(legs):
            time.sleep(0.5)
        elapsed = time.time() - started
    finally:
        cluster.stop()

    writes: dict[str, float] = {}
    for entry in control("GET", "requests"):
        if entry["method"] == "PATCH" and "/participants/" in entry["path"] and entry["status"] < 300:  # the write
            cid = entry["path"].split("/conversations/")[1].split("/")[0]
            writes.setdefault(cid, parse_time(entry["time"]))
    latencies = [writes[cid] - delivered[cid] for cid, _ in legs if cid in writes and cid in delivered]
    stats = control("GET", "stats")["writes"]
    twice = sum(1 for cid, pid in legs if stats.get(f"{cid}/{pid}", 0) > 1)
    p95 = percentile(latencies, 0.95) if latencies else float("inf")
    target = TARGET_P95 if not args.poller else 60 + 5
    return {
        "mode": "poller" if args.poller else "events", "events": len(legs), "workers": args.workers,
        "coded": len(latencies), "written_twice": twice, "seconds": round(elapsed, 1),
        "p50_seconds": round(statistics.median(latencies), 3) if latencies else None,
        "p95_seconds": round(p95, 3), "max_seconds": round(max(latencies), 3) if latencies else None,
        "target_p95_seconds": target, "target_met": len(latencies) == len(legs) and twice == 0 and p95 < target,
        "samples": {"latency_seconds": [round(v, 4) for v in latencies]},
    }  # fmt: skip


if __name__ == "__main__":
    main()
