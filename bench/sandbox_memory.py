"""Sandbox memory over a long live run: bounded by ``history_hours``, or growing without it.

Builds the demo organisation in-process (30 agents, 21 days of seeded history), then runs the
live simulator for N simulated days as fast as the CPU allows, moving the clock one hour at a
time (``tick``, exactly as ``POST /__sandbox/clock`` does). Each variant runs in its own
process so that its peak RSS is its own: ``bounded`` (the default ``history_hours=24``) and
``unbounded`` (``history_hours=0``, what the sandbox did before). Prints a table and writes
bench/out/sandbox_memory.json.

    .venv/bin/python bench/sandbox_memory.py [--days 7] [--speed 1] [--agents 30] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "sandbox_memory.json"
VARIANTS = {"bounded": 24.0, "unbounded": 0.0}


def rss_mb() -> float:
    """Resident set size now (Linux ``/proc``; falls back to the peak elsewhere)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * resource.getpagesize() / 2**20
    except (OSError, IndexError, ValueError):
        return peak_mb()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_variant(args: argparse.Namespace) -> dict[str, object]:
    """One run in this process: build, simulate day by day, report figures as a dict."""
    sys.path.insert(0, str(ROOT))
    from integrations.genesys_sandbox import OrgSpec, SandboxConfig
    from integrations.genesys_sandbox.app import SandboxApp

    started = time.perf_counter()
    app = SandboxApp(seed=1, speed=args.speed, live=True, config=SandboxConfig(history_hours=VARIANTS[args.variant]),
                     org=OrgSpec(agents=args.agents))
    store, clock = app.store, app.clock
    seeded = store.count()
    built = {"seconds": round(time.perf_counter() - started, 2), "rss_mb": round(rss_mb(), 1)}
    days = []
    for day in range(1, int(args.days) + 1):
        for _ in range(24):
            clock.advance(3600)
            app.simulator.tick(clock.now())  # the background thread is never started: no real-time drift
        gc.collect()
        days.append({"day": day, "conversations": store.count(), "evicted": store.evicted,
                     "rss_mb": round(rss_mb(), 1)})
    return {"variant": args.variant, "history_hours": VARIANTS[args.variant], "speed": args.speed,
            "agents": args.agents, "seeded_conversations": seeded, "build": built, "days": days,
            "final_conversations": store.count(), "evicted": store.evicted,
            "live_conversations_made": store.count() + store.evicted - seeded,
            "events_logged": len(app.webhook.events()), "final_rss_mb": days[-1]["rss_mb"] if days else built["rss_mb"],
            # ru_maxrss and /proc count slightly differently: report the larger.
            "peak_rss_mb": round(max([peak_mb(), built["rss_mb"]] + [d["rss_mb"] for d in days]), 1),
            "seconds": round(time.perf_counter() - started, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7, help="simulated days of live traffic (default 7)")
    parser.add_argument("--speed", type=float, default=1.0, help="traffic speed factor, as run_sandbox --speed")
    parser.add_argument("--agents", type=int, default=30, help="agents in the organisation (default: the demo's 30)")
    parser.add_argument("--quick", action="store_true", help="2 simulated days, for a smoke run")
    parser.add_argument("--only", choices=tuple(VARIANTS), help="run one variant")
    parser.add_argument("--variant", choices=tuple(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--json-out", type=Path, default=OUT, help=f"where the figures go as JSON (default {OUT})")
    args = parser.parse_args()
    if args.quick:
        args.days = min(args.days, 2)
    if args.variant:
        print(json.dumps(run_variant(args)))
        return 0

    results = []
    for variant in [args.only] if args.only else VARIANTS:
        command = [sys.executable, __file__, "--variant", variant, "--days", str(args.days), "--speed", str(args.speed),
                   "--agents", str(args.agents)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            return 1
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    args.json_out.parent.mkdir(parents=True, exist_ok=True)
    args.json_out.write_text(json.dumps(results, indent=2))

    print(f"{args.days} simulated days of live traffic, {args.agents} agents, speed {args.speed}")
    print(f"{'variant':10} {'history_hours':>13} {'seeded':>7} {'made live':>9} {'kept':>7} {'evicted':>8} "
          f"{'final MB':>9} {'peak MB':>8} {'s':>6}")
    for r in results:
        print(f"{r['variant']:10} {r['history_hours']:>13g} {r['seeded_conversations']:>7} "
              f"{r['live_conversations_made']:>9} {r['final_conversations']:>7} {r['evicted']:>8} "
              f"{r['final_rss_mb']:>9} {r['peak_rss_mb']:>8} {r['seconds']:>6}")
    for r in results:
        series = ", ".join(f"d{d['day']} {d['conversations']} / {d['rss_mb']:.0f} MB" for d in r["days"])
        print(f"{r['variant']}: conversations / RSS at the end of each day: {series}")
    print(f"written to {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
