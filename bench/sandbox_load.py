"""Sandbox load benchmark: 100k conversations loaded, the server stays responsive.

Starts the sandbox in-process (live simulator on), then measures over real HTTP the
latency of typical GETs and of analytics queries, first on a quiet server and then while
four other clients hammer it. Prints a table and writes bench/out/sandbox_load.json.

    .venv/bin/python bench/sandbox_load.py [--conversations 100000] [--samples 200]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from integrations.genesys_sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, OrgSpec, SandboxServer  # noqa: E402

OUT = Path(__file__).resolve().parent / "out" / "sandbox_load.json"


def stamp(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(name: str, call: Callable[[], requests.Response], samples: int) -> dict[str, float | str | int]:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        response = call()
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code >= 300:
            raise SystemExit(f"{name}: HTTP {response.status_code} {response.text[:200]}")
    return {"request": name, "samples": samples, "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(percentile(times, 0.95), 2), "max_ms": round(max(times), 2),
            "times_ms": [round(t, 2) for t in times]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--queues", type=int, default=50)
    parser.add_argument("--agents", type=int, default=300)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--json-out", type=Path, default=OUT, help=f"where the figures go as JSON (default {OUT})")
    args = parser.parse_args()

    started = time.perf_counter()
    server = SandboxServer(port=0, seed=1, speed=1.0, live=True,
                           org=OrgSpec(queues=args.queues, codes=200, agents=args.agents, days=21,
                                       conversations=args.conversations))
    build_s = time.perf_counter() - started
    server.start()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    url = server.url
    try:
        requests.post(f"{url}/__sandbox/config", json={"rate_limit": 10**9}).raise_for_status()
        org = requests.get(f"{url}/__sandbox/org").json()
        token = requests.post(f"{server.login_url}/oauth/token", auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
                              data={"grant_type": "client_credentials"}).json()["access_token"]
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        rng = random.Random(1)
        now = datetime.strptime(requests.get(f"{url}/__sandbox/clock").json()["now"],
                                "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
        sample_ids = [c["conversationId"] for c in session.post(
            f"{url}/api/v2/analytics/conversations/details/query",
            json={"interval": f"{stamp(now - 21 * 86400)}/{stamp(now)}", "paging": {"pageSize": 100}}).json()["conversations"]]
        legs = requests.get(f"{url}/__sandbox/conversations?state=acw").json()
        queue = org["queues"][0]
        day_query = {
            "interval": f"{stamp(now - 86400)}/{stamp(now - 60)}", "order": "desc", "paging": {"pageSize": 100},
            "conversationFilters": [{"type": "and", "predicates": [{"dimension": "conversationEnd", "operator": "exists"}]}],
            "segmentFilters": [
                {"type": "and", "predicates": [{"dimension": "purpose", "value": "agent"},
                                               {"dimension": "queueId", "value": queue["id"]}]},
                {"type": "or", "predicates": [{"dimension": "wrapUpCode", "value": "ININ-WRAP-UP-TIMEOUT"},
                                              {"dimension": "wrapUpCode", "operator": "notExists"}]}]}
        week_query = {"interval": f"{stamp(now - 7 * 86400)}/{stamp(now)}", "paging": {"pageSize": 100},
                      "segmentFilters": [{"type": "and", "predicates": [{"dimension": "segmentType", "value": "wrapup"},
                                                                         {"dimension": "wrapUpCode", "operator": "exists"}]}]}
        leg = legs[0] if legs else None
        cases: list[tuple[str, Callable[[], requests.Response], int]] = [
            ("GET /routing/wrapupcodes?pageSize=100", lambda: session.get(f"{url}/api/v2/routing/wrapupcodes?pageSize=100"), args.samples),
            ("GET /routing/queues?pageSize=100", lambda: session.get(f"{url}/api/v2/routing/queues?pageSize=100"), args.samples),
            ("GET /routing/queues/{id}/wrapupcodes", lambda: session.get(f"{url}/api/v2/routing/queues/{rng.choice(org['queues'])['id']}/wrapupcodes"), args.samples),
            ("GET /conversations/{id}", lambda: session.get(f"{url}/api/v2/conversations/{rng.choice(sample_ids)}"), args.samples),
            ("GET /analytics/conversations/{id}/details", lambda: session.get(f"{url}/api/v2/analytics/conversations/{rng.choice(sample_ids)}/details"), args.samples),
        ]
        if leg:
            cases.append(("GET …/participants/{pid}/wrapupcodes", lambda: session.get(
                f"{url}/api/v2/conversations/{leg['conversationId']}/participants/{leg['participantId']}/wrapupcodes"), args.samples))
        cases += [
            ("POST analytics query: 1 day, queue, timeout/no code", lambda: session.post(f"{url}/api/v2/analytics/conversations/details/query", json=day_query), max(20, args.samples // 4)),
            ("POST analytics query: 7 days, coded wrapup segments", lambda: session.post(f"{url}/api/v2/analytics/conversations/details/query", json=week_query), max(10, args.samples // 10)),
        ]
        quiet = [measure(name, call, n) for name, call, n in cases]

        stop = threading.Event()

        def hammer(seed: int) -> None:
            local = requests.Session()
            local.headers["Authorization"] = f"Bearer {token}"
            pick = random.Random(seed)
            while not stop.is_set():
                if pick.random() < 0.2:
                    local.post(f"{url}/api/v2/analytics/conversations/details/query", json=day_query)
                else:
                    local.get(f"{url}/api/v2/conversations/{pick.choice(sample_ids)}")

        workers = [threading.Thread(target=hammer, args=(i,), daemon=True) for i in range(4)]
        for worker in workers:
            worker.start()
        loaded = [measure(name + " (under load)", call, max(10, n // 2)) for name, call, n in cases
                  if name.startswith(("GET /conversations/{id}", "POST analytics query: 1 day"))]
        stop.set()
        for worker in workers:
            worker.join(timeout=10)
        stats = requests.get(f"{url}/__sandbox/stats").json()
    finally:
        server.stop()

    result = {"conversations_loaded": stats["conversations"], "build_seconds": round(build_s, 2),
              "max_rss_mb": round(rss_mb, 1), "requests_served": stats["requests"], "quiet": quiet, "under_load": loaded,
              "knobs": {"conversations": args.conversations, "queues": args.queues, "agents": args.agents,
                        "samples": args.samples, "seed": 1}}
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(result, indent=2))
    print(f"{stats['conversations']} conversations loaded in {build_s:.1f} s, max RSS {rss_mb:.0f} MB")
    print(f"{'request':62} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for row in quiet + loaded:
        print(f"{row['request']:62} {row['samples']:>5} {row['p50_ms']:>8} {row['p95_ms']:>8} {row['max_ms']:>8}")
    print(f"written to {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
