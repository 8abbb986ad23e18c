"""Catalog sync benchmark (not part of the test suite).

    .venv/bin/python bench/catalog_sync.py                     # SQLite file in bench/out/
    .venv/bin/python bench/catalog_sync.py --database-url postgres://user:pw@host/db
    .venv/bin/python bench/catalog_sync.py --queues 100 --codes 500   # smaller run

Starts the sandbox in this process with 1,000 queues, 5,000 codes and 50 codes per queue
(50,000 memberships; quota raised so the API is not the bottleneck), then runs a first sync
into an empty catalog and a second, unchanged one. Reports API calls against the pages the
data needs at the maximum page size, the time spent reading Genesys and the time of the
database work. Targets (issue 6): no more calls than pages; database work of the first sync
under 10 s on SQLite; the second sync writes zero rows.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "bench" / "out" / "catalog-bench.sqlite3"
GENERAL_CODES = 3  # the sandbox offers three "General - …" codes on every queue


def setup_django(database_url: str, api_url: str, login_url: str) -> None:
    os.environ.update(DATABASE_URL=database_url, GENESYS_API_URL=api_url, GENESYS_LOGIN_URL=login_url,
                      GENESYS_CLIENT_ID="wrapup-portal-demo", GENESYS_CLIENT_SECRET="wrapup-portal-demo-secret",
                      DJANGO_SETTINGS_MODULE="wrapup_portal.settings", PORTAL_LOG_LEVEL="WARNING")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queues", type=int, default=1000)
    parser.add_argument("--codes", type=int, default=5000)
    parser.add_argument("--codes-per-queue", type=int, default=50)
    parser.add_argument("--database-url", default=f"sqlite:///{DEFAULT_DB}")
    parser.add_argument("--json-out", type=Path, help="also write the figures here as JSON")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from integrations.genesys_sandbox import OrgSpec, SandboxConfig, SandboxServer

    picked = args.codes_per_queue - GENERAL_CODES
    org = OrgSpec(queues=args.queues, codes=args.codes, agents=20, days=1, conversations=0,
                  deleted_codes=0, codes_per_queue=(picked, picked))
    server = SandboxServer(port=0, seed=7, live=False, org=org, config=SandboxConfig(rate_limit=1_000_000))
    server.start()
    try:
        if args.database_url.startswith("sqlite:///"):
            Path(args.database_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
            DEFAULT_DB.parent.mkdir(parents=True, exist_ok=True)
        setup_django(args.database_url, server.url, server.login_url)
        figures = run(args, server)
    finally:
        server.stop()
    print(json.dumps(figures, indent=2))
    if args.json_out:
        figures["knobs"] = {"queues": args.queues, "codes": args.codes, "codes_per_queue": args.codes_per_queue, "seed": 7}
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(figures, indent=2))


def run(args: argparse.Namespace, server: object) -> dict[str, object]:
    from django.core.management import call_command
    from django.db import connection

    from wrapup_portal.catalog import services
    from wrapup_portal.catalog.models import CodeGroup, Membership, SyncRun, WrapupCode
    from wrapup_portal.core.genesys import build_genesys_client

    call_command("migrate", verbosity=0)
    if connection.vendor == "postgresql":  # a reused database: start from an empty catalog
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE catalog_syncchange, catalog_membership, catalog_codegroup, catalog_wrapupcode, "
                           "catalog_syncrun, accounts_queuegrant CASCADE")

    def sync() -> tuple[SyncRun, float]:
        started = time.perf_counter()
        request = services.sync_run_request(trigger=SyncRun.Trigger.CLI)
        run = services.sync_run_execute(run_id=request.run.pk, client=build_genesys_client())
        assert run.status == SyncRun.Status.SUCCEEDED, run.error
        return run, time.perf_counter() - started

    def database_seconds(run: SyncRun) -> float:
        # The run's heartbeat moves last when it enters "Saving changes"; it finishes once
        # the transaction has committed: the difference is all of the database work.
        return (run.finished_at - run.heartbeat_at).total_seconds()

    first, first_total = sync()
    counts = {"codes": WrapupCode.objects.count(), "queues": CodeGroup.objects.count(),
              "memberships": Membership.objects.count()}
    per_queue = [max(1, math.ceil(len(q.code_ids) / 100)) for q in server.app.store.org.queues.values()]
    pages_needed = math.ceil(counts["queues"] / 100) + math.ceil(counts["codes"] / 100) + sum(per_queue)
    second, second_total = sync()
    apply_seconds = [database_seconds(first), database_seconds(second)]
    return {
        "database": connection.vendor,
        "catalog": counts,
        "first_sync": {"api_calls": first.api_calls, "pages_at_max_size": pages_needed,
                       "total_seconds": round(first_total, 2), "database_work_seconds": round(apply_seconds[0], 2),
                       "reading_genesys_seconds": round(first_total - apply_seconds[0], 2),
                       "rows_written": first.rows_written},
        "second_sync": {"api_calls": second.api_calls, "rows_written": second.rows_written,
                        "changes": second.added + second.changed + second.retired,
                        "total_seconds": round(second_total, 2), "database_work_seconds": round(apply_seconds[1], 2)},
        "targets_met": {"calls_equal_pages": first.api_calls == pages_needed,
                        "first_db_work_under_10s": apply_seconds[0] < 10,
                        "second_sync_zero_rows": second.rows_written == 0},
    }


if __name__ == "__main__":
    main()
