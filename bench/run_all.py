"""`make bench`: every benchmark, one after the other, each printing its own figures.

Long (the audit benchmark loads a million events); not part of `make test`. Pass
`--database-url postgres://…` to run the database benchmarks on PostgreSQL too.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SCRIPTS = ("sandbox_load.py", "sandbox_memory.py", "client_soak.py", "catalog_sync.py", "interactions_bench.py",
           "assignments_bench.py", "audit_bench.py")
WITH_DATABASE = {"catalog_sync.py", "interactions_bench.py", "assignments_bench.py", "audit_bench.py"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", help="also run the database benchmarks against this database")
    parser.add_argument("--only", choices=SCRIPTS, action="append", help="run only these scripts")
    args = parser.parse_args()
    failed = []
    for script in args.only or SCRIPTS:
        runs = [[]] + ([["--database-url", args.database_url]] if args.database_url and script in WITH_DATABASE else [])
        for extra in runs:
            print(f"\n=== {script} {' '.join(extra)}", flush=True)
            started = time.monotonic()
            if subprocess.run([sys.executable, str(BENCH / script), *extra]).returncode != 0:
                failed.append(script)
            print(f"=== {script}: {time.monotonic() - started:.0f} s", flush=True)
    if failed:
        print(f"\nFailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
