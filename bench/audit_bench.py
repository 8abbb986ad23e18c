"""Audit log benchmark (not part of the test suite).

    .venv/bin/python bench/audit_bench.py                      # 200,000 events, SQLite file in bench/out/ (~1.5 min)
    .venv/bin/python bench/audit_bench.py --database-url postgres://user:pw@host/db
    .venv/bin/python bench/audit_bench.py --events 1000000     # the issue-5 size (6-8 min, most of it the load)
    .venv/bin/python bench/audit_bench.py --steps load,pages   # only some steps

Loads N events (once, into an empty database; a precomputed chain through executemany: the
triggers only refuse UPDATE and DELETE; two months of traffic from 2026-01-01; a database this
step did not load in one go is refused rather than reused), then measures, each step in its own
process so peak memory is its own: filtered list pages (server time of the view: one first
"cold" run, then warm runs, median and worst; the time ranges are read from the loaded data),
a full CSV export (rows/s, peak RSS), and verify_audit over the whole chain. Targets (issue 5):
page < 100 ms, export >= 30,000 rows/s with peak < 150 MB, verify < 60 s for 1,000,000 events.
The default size is 200,000 events so that `make bench` fits in 10 minutes; at that size the
verify target is judged as its rate (at least 1,000,000 events in 60 s, 16,667 events/s), and
the page and export-memory targets are easier than at a million: docs/audit.md has the
million-event figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "bench" / "out" / "audit-bench.sqlite3"
STEPS = ("load", "pages", "export", "verify")
DEFAULT_EVENTS = 200_000


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("PORTAL_LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "wrapup_portal.settings"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def run_step(step: str, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--step", step, "--database-url", args.database_url, "--events", str(args.events)]
    output = subprocess.run(command, capture_output=True, text=True)
    if output.returncode != 0:
        sys.exit(f"step {step} failed:\n{output.stderr.strip()[-3000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


def summary(results: dict) -> str:
    """The figures as text, alongside the JSON."""
    lines = []
    if load := results.get("load"):
        lines.append(f"load: {load}")
    if pages := results.get("pages"):
        lines += [f"pages ({pages['method']}); windows {pages['windows']}",
                  f"  {'filter':30} {'cold ms':>8} {'median':>8} {'worst':>8} {'rows':>5}"]
        for name, figures in pages.items():
            if isinstance(figures, dict) and "cold_ms" in figures:
                flag = "" if figures["warm_worst_ms"] < 100 else "  <-- over 100 ms"
                lines.append(f"  {name:30} {figures['cold_ms']:8.1f} {figures['warm_median_ms']:8.1f} "
                             f"{figures['warm_worst_ms']:8.1f} {figures['rows']:5}{flag}")
        lines.append(f"  full GC collections inside timed requests: {pages.get('full_gc_in_timed_requests')}")
    if export := results.get("export"):
        lines.append(f"export: {export}")
    if verify := results.get("verify"):
        lines.append(f"verify: {verify}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS,
                        help=f"events to load (default {DEFAULT_EVENTS:,}; the issue-5 targets are for 1,000,000)")
    parser.add_argument("--json-out", type=Path, help="also write the figures here as JSON")
    parser.add_argument("--database-url", default=f"sqlite:///{DEFAULT_DB}")
    parser.add_argument("--steps", default=",".join(STEPS), help="comma-separated subset of: " + ",".join(STEPS))
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        setup_django(args.database_url)
        from bench import audit_steps

        print(json.dumps(getattr(audit_steps, args.step)(args.events)))
        return
    DEFAULT_DB.parent.mkdir(parents=True, exist_ok=True)
    steps = [step for step in args.steps.split(",") if step]
    if unknown := set(steps) - set(STEPS):
        parser.error(f"unknown steps: {', '.join(sorted(unknown))}")
    results = {"database": args.database_url.split("://")[0], "events": args.events}
    for step in STEPS:
        if step in steps:
            results[step] = run_step(step, args)
            print(f"{step}: done", file=sys.stderr, flush=True)
    print(json.dumps(results, indent=2))
    print(summary(results))
    if args.json_out:
        results["knobs"] = {"events": args.events, "steps": steps, "seed": 5}
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
