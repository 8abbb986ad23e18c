"""The portal's side of the reliability tests, run as a separate process against their database.

    python -m tests.assignments.portal_driver create LEGS_JSON CODE [--no-enqueue]
    python -m tests.assignments.portal_driver enqueue [--copies 2]
    python -m tests.assignments.portal_driver sweep [--until-final SECONDS]
    python -m tests.assignments.portal_driver drive [--threads 4] [--seconds 50]

The environment says which database and which Genesys (``DATABASE_URL``, ``GENESYS_*``), as for
``manage.py``. A test's own database lives inside the test's transaction, so the processes it
starts (clusters, this driver) get a database of their own: a SQLite file or a PostgreSQL
database made for the test. Each command prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wrapup_portal.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def live_count() -> int:
    from wrapup_portal.assignments.models import LIVE_STATES, Assignment

    return Assignment.objects.filter(state__in=LIVE_STATES).count()


def create(legs_file: str, code: str, *, enqueue: bool) -> dict[str, Any]:
    """One bulk job over the legs, validated by ``bulk_preview`` as the bulk page does."""
    from wrapup_portal.assignments import services
    from wrapup_portal.assignments.models import Source
    from wrapup_portal.assignments.services import Requester, Wanted, bulk_job_create, bulk_preview

    if not enqueue:
        services.assignment_enqueue = lambda ids: None  # type: ignore[assignment]  # the caller drives the engine
    legs = json.loads(Path(legs_file).read_text())
    requester = Requester.cli()
    started = time.monotonic()
    preview = bulk_preview(wanted=[Wanted(cid, pid, code) for cid, pid in legs], requester=requester)
    if preview.bad_rows:
        raise SystemExit(f"{len(preview.bad_rows)} bad rows, first: {preview.bad_rows[0].message}")
    job = bulk_job_create(preview=preview, requester=requester, source=Source.BULK, reason="reliability test", feed=enqueue)
    return {"job": job.pk, "assignments": job.assignments.count(), "preview_reads": preview.reads,
            "counts": preview.counts(), "seconds": round(time.monotonic() - started, 2)}  # fmt: skip


def enqueue_live(copies: int) -> dict[str, Any]:
    """Queue every live assignment, each chunk ``copies`` times in a row: the duplicate deliveries
    django-q2 (at least once) and the sweeper make, side by side so that workers run them at once."""
    from wrapup_portal.assignments.models import LIVE_STATES, Assignment
    from wrapup_portal.assignments.services import CHUNK, assignment_enqueue

    ids = list(Assignment.objects.filter(state__in=LIVE_STATES).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), CHUNK):
        for _ in range(copies):
            assignment_enqueue(ids[start:start + CHUNK])
    return {"queued": len(ids), "copies": copies}


def sweep(until_final: float) -> dict[str, Any]:
    """The minute schedule's function, once, or every 2 s until nothing is live (for at most ``until_final`` s)."""
    from wrapup_portal.assignments.tasks import assignments_sweep

    deadline, sweeps = time.monotonic() + until_final, []
    while True:
        sweeps.append(assignments_sweep())
        if not until_final or not live_count() or time.monotonic() >= deadline:
            return {"sweeps": sweeps, "live": live_count()}
        time.sleep(2)


def drive(threads: int, seconds: float) -> dict[str, Any]:
    """The sweeper and a cluster, compressed: rounds of due ids run by ``threads`` threads at once.

    Between rounds, when no thread is running, time is made to pass: backoffs and the leases of
    rows left "sending" (a read-back that failed) are cut short, as the clock would eventually.
    """
    from django.db import connection
    from django.utils import timezone

    from wrapup_portal.assignments.engine import assignment_execute, assignments_due
    from wrapup_portal.assignments.models import Assignment, State

    errors: list[str] = []
    executions: list[int] = []  # appended to from the threads (atomic), counted at the end
    rounds = 0
    deadline = time.monotonic() + seconds
    started = time.monotonic()

    def work(todo: queue.SimpleQueue[int]) -> None:
        try:
            while True:
                try:
                    pk = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    assignment_execute(assignment_id=pk)
                    executions.append(pk)
                except Exception as error:  # noqa: BLE001 - reported to the test, which fails on any
                    errors.append(f"#{pk}: {type(error).__name__}: {error}")
        finally:
            connection.close()

    while live_count() and time.monotonic() < deadline:
        rounds += 1
        todo: queue.SimpleQueue[int] = queue.SimpleQueue()
        for pk in dict.fromkeys(assignments_due(limit=5000)):
            todo.put(pk)
        pool = [threading.Thread(target=work, args=(todo,)) for _ in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        now = timezone.now()
        Assignment.objects.filter(state__in=(State.REQUESTED, State.WAITING_FOR_ACW)).update(next_attempt_at=now)
        Assignment.objects.filter(state=State.SENDING).update(lease_until=now)
    return {"rounds": rounds, "executions": len(executions), "errors": errors, "live": live_count(),
            "seconds": round(time.monotonic() - started, 2)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("create")
    made.add_argument("legs_file")
    made.add_argument("code")
    made.add_argument("--no-enqueue", action="store_true")
    queued = commands.add_parser("enqueue")
    queued.add_argument("--copies", type=int, default=1)
    swept = commands.add_parser("sweep")
    swept.add_argument("--until-final", type=float, default=0.0)
    driven = commands.add_parser("drive")
    driven.add_argument("--threads", type=int, default=4)
    driven.add_argument("--seconds", type=float, default=50.0)
    args = parser.parse_args(argv)
    setup()
    if args.command == "create":
        out = create(args.legs_file, args.code, enqueue=not args.no_enqueue)
    elif args.command == "enqueue":
        out = enqueue_live(args.copies)
    elif args.command == "sweep":
        out = sweep(args.until_final)
    else:
        out = drive(args.threads, args.seconds)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
