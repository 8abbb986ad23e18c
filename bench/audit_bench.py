"""Audit log benchmark (not part of the test suite).

    .venv/bin/python bench/audit_bench.py                      # SQLite file in bench/out/
    .venv/bin/python bench/audit_bench.py --database-url postgres://user:pw@host/db
    .venv/bin/python bench/audit_bench.py --events 200000      # smaller run

Loads N events (once; a precomputed chain through bulk_create: the triggers only refuse
UPDATE and DELETE), then measures, each step in its own process so peak memory is its own:
filtered list pages (server time of the view), a full CSV export (rows/s, peak RSS), and
verify_audit over the whole chain. Targets (issue 5): page < 100 ms, export >= 30,000 rows/s
with peak < 150 MB, verify < 60 s for 1,000,000 events.
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
    output = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=f"sqlite:///{DEFAULT_DB}")
    parser.add_argument("--step", choices=["load", "pages", "export", "verify"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        setup_django(args.database_url)
        from bench import audit_steps

        print(json.dumps(getattr(audit_steps, args.step)(args.events)))
        return
    DEFAULT_DB.parent.mkdir(parents=True, exist_ok=True)
    results = {step: run_step(step, args) for step in ("load", "pages", "export", "verify")}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
