"""`make bench`: every benchmark against the sandbox, the naive script beside the engine, one report.

    .venv/bin/python bench/run_all.py                 # default sizes: < 10 minutes on 2 cores
    .venv/bin/python bench/run_all.py --quick         # every size shrunk: < 1 minute (run by `make test`)
    .venv/bin/python bench/run_all.py --only assignments --only baseline
    .venv/bin/python bench/run_all.py --out /tmp/bench   # REPORT.md and report/*.png there instead of bench/

Each benchmark runs in its own process with its size knobs on the command line (listed in the
report and below in BENCHES), seeds its sandbox itself, and writes its figures with
``--json-out``; bench/report.py turns them into ``REPORT.md`` (the table of figures against
their targets, the engine / script ratios, the machine and its load) and the PNG plots.
The engine's bulk run and bench/baseline_script.py run side by side, once at the default quota
and once under the fault mix: the four runs at the same time, each on an identically seeded
sandbox of its own (they wait on the quota far more than they use a core).

Exit status 0 when every benchmark produced its figures (a missed target is a FAIL in the
report, not an error of the run); 1 when one did not. ``--strict`` also exits 1 on a missed target.
Pass ``--database-url postgres://…`` to run the database benchmarks on PostgreSQL instead of SQLite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

from bench import report  # noqa: E402


@dataclass(frozen=True)
class Bench:
    """One benchmark run: its script and its size knobs at default size and in ``--quick``."""

    name: str  # its results file, and its key in bench/report.py
    group: str  # --only selects groups; the members of one group run at the same time
    script: str
    default: tuple[str, ...]
    quick: tuple[str, ...]
    database: bool = False  # takes --database-url


# Default sizes are chosen so the whole run stays under 10 minutes on 2 cores; each script's own
# defaults (its --help) may be larger. The assignment runs: 700 legs at the default quota of 300
# requests per minute span three quota windows, which is where pacing and the lack of it differ
# (bench/assignments_bench.py's own default, 1,000 legs, takes ~3.5 minutes per run).
# The four assignment runs (engine and script, default quota and fault mix) are one group, run at
# the same time on four sandboxes of their own: all four wait on the quota (a few requests a
# second), not on the CPU. It comes first and is the longest: under the fault mix a write answered
# 5xx is retried by the engine's sweeper, which runs once a minute, so that run has a tail.
ASSIGN_DEFAULT = ("--legs", "700", "--rate-limit", "300", "--window", "60")
ASSIGN_QUICK = ("--legs", "60", "--rate-limit", "50", "--window", "5")
BENCHES = (
    Bench("assignments_engine", "assignments", "assignments_bench.py", ASSIGN_DEFAULT, ASSIGN_QUICK, database=True),
    Bench("baseline_script", "assignments", "baseline_script.py", ASSIGN_DEFAULT, ASSIGN_QUICK),
    Bench("assignments_engine_faults", "assignments", "assignments_bench.py", (*ASSIGN_DEFAULT, "--fault-mix"),
          (*ASSIGN_QUICK, "--fault-mix"), database=True),
    Bench("baseline_script_faults", "assignments", "baseline_script.py", (*ASSIGN_DEFAULT, "--fault-mix"),
          (*ASSIGN_QUICK, "--fault-mix")),
    Bench("sandbox_load", "sandbox", "sandbox_load.py", ("--conversations", "100000", "--samples", "200"),
          ("--conversations", "5000", "--samples", "20", "--queues", "10", "--agents", "50")),
    Bench("sandbox_memory", "sandbox", "sandbox_memory.py", ("--days", "7"), ("--days", "1")),
    Bench("client_soak", "client", "client_soak.py", ("--conversations", "300"),
          ("--conversations", "40", "--rate-limit", "200", "--window", "2")),
    Bench("catalog_sync", "catalog", "catalog_sync.py", ("--queues", "1000", "--codes", "5000"),
          ("--queues", "40", "--codes", "200", "--codes-per-queue", "20"), database=True),
    Bench("interactions", "interactions", "interactions_bench.py", ("--runs", "50", "--board-legs", "200"),
          ("--runs", "3", "--board-legs", "20", "--history", "1200"), database=True),
    Bench("rules_latency", "rules", "rules_latency.py", ("--events", "300"), ("--events", "15", "--interval", "0.05"),
          database=True),
    Bench("audit", "audit", "audit_bench.py", ("--events", "200000"), ("--events", "5000"), database=True),
)  # fmt: skip
GROUPS = tuple(dict.fromkeys(b.group for b in BENCHES))


def command(bench: Bench, args: argparse.Namespace, results: Path) -> list[str]:
    knobs = list(bench.quick if args.quick else bench.default)
    # A SQLite file of its own in the results folder, emptied first: two runs (say --quick in the tests
    # and a default run) never share one, and the audit bench never meets a database of another size.
    database = (args.database_url or f"sqlite:///{results / bench.name}.sqlite3") if bench.database else None
    if database and database.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(database.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    extra = ["--database-url", database] if database else []
    return [sys.executable, str(BENCH / bench.script), *knobs, *extra, "--json-out", str(results / f"{bench.name}.json")]


def run_group(group: str, args: argparse.Namespace, results: Path) -> dict[str, float]:
    """Start every benchmark of the group at once, wait for all; seconds each took."""
    members = [b for b in BENCHES if b.group == group]
    started = time.monotonic()
    running = []
    for bench in members:
        (results / f"{bench.name}.json").unlink(missing_ok=True)
        log = open(results / f"{bench.name}.log", "w")  # noqa: SIM115 - closed below
        cmd = command(bench, args, results)
        print(f"=== {bench.name}: {' '.join(cmd[2:])}", flush=True)
        running.append((bench, log, subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)))
    seconds: dict[str, float] = {}
    statuses: dict[str, int] = {}
    while len(statuses) < len(running):  # each one's own duration, whichever ends first
        for bench, _, process in running:
            if bench.name not in statuses and (status := process.poll()) is not None:
                statuses[bench.name], seconds[bench.name] = status, round(time.monotonic() - started, 1)
        time.sleep(0.2)
    for bench, log, _ in running:
        log.close()
        status = statuses[bench.name]
        produced = (results / f"{bench.name}.json").exists()
        print(f"=== {bench.name}: exit {status}, {seconds[bench.name]:.0f} s"
              + ("" if produced else f", NO FIGURES (see {results / bench.name}.log)"), flush=True)  # fmt: skip
        if not produced:
            print((results / f"{bench.name}.log").read_text()[-3000:], file=sys.stderr)
    return seconds


def _shown(path: Path) -> str:
    """A path relative to the repository when it is inside it."""
    try:
        return f"{path.relative_to(ROOT)}/"
    except ValueError:
        return f"{path}/"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="every size shrunk, to check the benchmarks still run")
    parser.add_argument("--only", choices=GROUPS, action="append", help="run only these groups (repeatable)")
    parser.add_argument("--out", type=Path, default=BENCH, help="where REPORT.md and report/*.png go (default bench/)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="groups run at the same time (default 1; --quick 3: its figures are not for reading)")
    parser.add_argument("--database-url", help="run the database benchmarks on this database (default: SQLite files)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed, too")
    args = parser.parse_args()
    jobs = args.jobs or (3 if args.quick else 1)
    out = args.out.resolve()
    results = BENCH / "out" / ("results-quick" if args.quick else "results") if out == BENCH else out / "results"
    results.mkdir(parents=True, exist_ok=True)

    machine = report.machine_description()
    started_at, started = datetime.now(UTC), time.monotonic()
    groups = [g for g in GROUPS if not args.only or g in args.only]
    seconds: dict[str, float] = {}
    with ThreadPoolExecutor(jobs) as pool:
        for done in pool.map(lambda g: run_group(g, args, results), groups):
            seconds.update(done)
    total = time.monotonic() - started
    machine["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    figures = {b.name: report.load(results / f"{b.name}.json") for b in BENCHES if b.group in groups}
    run = {"started": started_at.strftime("%Y-%m-%d %H:%M UTC"), "total_seconds": round(total, 1), "quick": args.quick,
           "jobs": jobs, "seconds": seconds, "results": _shown(results),
           "commands": {b.name: " ".join(["bench/" + b.script, *(b.quick if args.quick else b.default)])
                        for b in BENCHES if b.group in groups}}  # fmt: skip
    (results / "run.json").write_text(json.dumps({"run": run, "machine": machine, "groups": groups}, indent=2))
    rows, ratios = report.write(out, figures=figures, machine=machine, run=run)
    print(f"\n{report.table(rows)}\n\n{report.ratio_table(ratios)}")
    print(f"\n{out / 'REPORT.md'} written; {total:.0f} s in all")
    missing = [name for name, data in figures.items() if data is None]
    if missing:
        print(f"No figures from: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 1 if args.strict and any(r.passed is False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
