"""`assign_wrapup`: the browser's assignment services from the command line, audited.

One leg (``--conversation``/``--code``) goes through ``assignment_request``; a CSV goes through
``parse_assignment_csv`` + ``bulk_preview`` + ``bulk_job_create``, exactly as the upload page,
so the command and the browser refuse the same rows with the same messages.

Exit status: 0 when every requested assignment was accepted (with ``--wait``: applied); 1 when
the services refused anything (a row, a leg, the configured write path, a Genesys failure), or
an assignment failed, expired, was cancelled or was still live when ``--timeout`` ran out;
2 for usage errors, found before any Genesys call: missing or conflicting options, an unknown
``--as`` user, a CSV that cannot be read or is not the contract's file (encoding, header, size).
"""

from __future__ import annotations

import getpass
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from integrations.genesys import GenesysError
from wrapup_portal.accounts.roles import perm
from wrapup_portal.assignments.csv_rows import parse_assignment_csv
from wrapup_portal.assignments.engine import EXPIRED_KEPT, assignment_execute
from wrapup_portal.assignments.models import LIVE_STATES, Assignment, LegState, Source, State
from wrapup_portal.assignments.services import Requester, Verdict, Wanted, assignment_request, bulk_job_create, bulk_preview
from wrapup_portal.audit.models import Action
from wrapup_portal.audit.services import Actor, audit_record
from wrapup_portal.catalog.models import WrapupCode

USAGE_ERROR = 2
REFUSED = 1  # refused, failed, expired, cancelled, skipped or still live
WAIT_TIMEOUT = 600.0  # seconds
POLL_MAX = 5.0  # re-look at least this often: a cluster may finish our assignments meanwhile

ONE_MODE = "Give either --conversation (with --code) or --csv, not both."
NEEDS_CODE = "--conversation needs --code."
EMPTY_CONVERSATION = "--conversation is empty."
ONLY_SINGLE = "{option} applies only with --conversation; a CSV carries it per row."
ONLY_CSV = "--skip-invalid applies only with --csv."
ONLY_WAIT = "--timeout applies only with --wait."
BAD_TIMEOUT = "--timeout must be a positive number of seconds."
UNKNOWN_USER = "--as {username!r}: no such user."
UNREADABLE = "--csv {path}: cannot read it ({error})."
BAD_FILE = "--csv {path}: {error}"
MAY_NOT_ASSIGN = "--as {username!r}: this user may not assign wrap-up codes (no such role, or deactivated)."
GENESYS_FAILURE = "Genesys could not answer, nothing was queued: {error}"
NOTHING_QUEUED = "{bad} of {total} row(s) refused: nothing was queued (--skip-invalid queues the {good} good row(s))."
SKIPPED = "{bad} of {total} row(s) refused and skipped; {good} queued."
NO_GOOD_ROWS = "All {total} row(s) refused: nothing was queued."
NOT_APPLIED = "{count} of {total} assignment(s) not applied."
STILL_LIVE = ("Stopped waiting after {seconds:g} s: {count} assignment(s) still live. They stay queued; the portal's "
              "background worker carries them on.")  # fmt: skip
INTERRUPTED = "Interrupted: {count} assignment(s) still live. They stay queued; the portal's background worker carries them on."

# What a queued assignment will do, from what the validating read saw (the preview's words).
HINTS = {LegState.ACW: Verdict.WILL_APPLY, LegState.CONNECTED: Verdict.WAITS, LegState.FINAL: Verdict.FINAL}


def usage_error(message: str) -> CommandError:
    return CommandError(message, returncode=USAGE_ERROR)


def refused(message: str) -> CommandError:
    return CommandError(message, returncode=REFUSED)


def _code_label(code_id: str) -> str:
    name = WrapupCode.objects.filter(code_id=code_id).values_list("name", flat=True).first() if code_id else None
    return f"{name} ({code_id})" if name else code_id or "no code"


def reason_of(assignment: Assignment) -> str:
    """Why an assignment is where it is, in one line."""
    state = assignment.state
    if state == State.APPLIED:
        return "written" if assignment.attempts else "the leg already carried the code"
    if state == State.EXPIRED:
        return EXPIRED_KEPT.format(code=_code_label(assignment.final_code))
    if state == State.FAILED:
        return assignment.last_message
    if state == State.CANCELLED:
        return f"superseded by assignment #{assignment.superseded_by_id}" if assignment.superseded_by_id else "cancelled"
    if state == State.WAITING_FOR_ACW:
        return "the agent is still connected; the code is written when after-call work starts"
    if state == State.SENDING:
        return "a write is in flight; its outcome is read back before anything else"
    if assignment.attempts or assignment.checks:  # requested again after a transient failure
        return f"retrying after: {assignment.last_message}" if assignment.last_message else "retrying"
    if assignment.seen_code and assignment.seen_code == assignment.code_id:
        return Verdict.ALREADY
    return HINTS.get(assignment.seen_state, "")


def line_of(assignment: Assignment) -> str:
    """id, conversation/participant, state, code name, reason: tab-separated, one line."""
    fields = (str(assignment.pk), f"{assignment.conversation_id}/{assignment.participant_id}", assignment.state,
              assignment.code_name, reason_of(assignment))  # fmt: skip
    return "\t".join(" ".join(field.split()) for field in fields)


class Command(BaseCommand):
    help = (
        "Assign a wrap-up code to one agent leg (--conversation, --code, [--participant], [--notes]) or to the rows "
        "of a CSV (--csv FILE, header conversation_id,participant_id,code,notes), through the same validated, "
        "audited services as the browser. Without --as the actor is the command line, recorded with the OS user. "
        "Every CSV row is checked before anything is queued: one bad row queues nothing unless --skip-invalid. "
        "Prints one tab-separated line per assignment: id, conversation/participant, state, code, reason. "
        "--wait runs the assignments to their final state itself (no cluster needed). Exit 0 when every assignment "
        "was accepted (with --wait: applied); 1 when anything was refused, failed, expired or skipped, or was still "
        "live at --timeout; 2 for usage errors (options, --as user, unreadable or malformed file)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--conversation", metavar="ID", help="the conversation of the leg to code")
        parser.add_argument("--participant", metavar="ID", help="the agent leg; may be left out when there is only one")
        parser.add_argument("--code", metavar="ID_OR_NAME", help="the wrap-up code: its id or exact name in the catalog")
        parser.add_argument("--notes", metavar="TEXT", default="", help="wrap-up notes written with the code")
        parser.add_argument("--csv", metavar="FILE", help="a CSV with the header conversation_id,participant_id,code,notes")
        parser.add_argument("--skip-invalid", action="store_true",
                            help="queue a CSV's good rows even if some are refused (the exit status is still 1)")  # fmt: skip
        parser.add_argument("--as", dest="as_user", metavar="USERNAME",
                            help="act as this portal user: their role and queue grants apply; the audit names them")  # fmt: skip
        parser.add_argument("--wait", action="store_true", help="run the assignments to their final state and report each")
        parser.add_argument("--timeout", type=float, metavar="SECONDS",
                            help=f"with --wait: stop waiting after this long, exit 1 (default {WAIT_TIMEOUT:g})")  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        self._check_usage(options)
        requester = self._requester(options["as_user"])  # before the file: a wrong --as costs nothing
        try:
            if options["csv"] is not None:
                ids, skipped = self._from_csv(Path(options["csv"]), requester, skip_invalid=options["skip_invalid"],
                                              feed=not options["wait"])  # with --wait this command runs them itself
            else:
                ids, skipped = [self._one(options, requester)], 0
        except GenesysError as error:
            raise refused(GENESYS_FAILURE.format(error=error)) from error
        if not options["wait"]:
            for assignment in Assignment.objects.filter(pk__in=ids).order_by("pk"):
                self.stdout.write(line_of(assignment))
            if skipped:
                raise refused(SKIPPED.format(bad=skipped, total=skipped + len(ids), good=len(ids)))
            return
        final = self._wait(ids, options["timeout"] or WAIT_TIMEOUT)
        problems = [SKIPPED.format(bad=skipped, total=skipped + len(ids), good=len(ids))] if skipped else []
        if not_applied := [a for a in final if a.state != State.APPLIED]:
            problems.append(NOT_APPLIED.format(count=len(not_applied), total=len(final)))
        if problems:
            raise refused(" ".join(problems))

    # --- before anything is looked up ---------------------------------------------------------------
    def _check_usage(self, options: dict[str, Any]) -> None:
        """Missing or conflicting options: exit 2, no database or Genesys call."""
        single = options["conversation"] is not None
        if single == (options["csv"] is not None):
            raise usage_error(ONE_MODE)
        if single:
            if not options["conversation"].strip():
                raise usage_error(EMPTY_CONVERSATION)
            if not (options["code"] or "").strip():
                raise usage_error(NEEDS_CODE)
            if options["skip_invalid"]:
                raise usage_error(ONLY_CSV)
        else:
            for option in ("code", "participant"):
                if options[option] is not None:
                    raise usage_error(ONLY_SINGLE.format(option=f"--{option}"))
            if options["notes"]:
                raise usage_error(ONLY_SINGLE.format(option="--notes"))
        if options["timeout"] is not None:
            if not options["wait"]:
                raise usage_error(ONLY_WAIT)
            if not options["timeout"] > 0:  # also refuses nan
                raise usage_error(BAD_TIMEOUT)

    def _requester(self, username: str | None) -> Requester:
        if username is None:
            return Requester.cli()  # the command line itself, audited with the OS user
        user = User.objects.filter(username=username).first()
        if user is None:
            raise usage_error(UNKNOWN_USER.format(username=username))
        if not user.has_perm(perm("assign_wrapup")):  # False for a deactivated user too
            # Audited like the browser's refusals: the user named, the OS user that ran the command beside it.
            audit_record(action=Action.PERMISSION_DENIED, actor=Actor.for_user(user), outcome="denied",
                         target_kind="command", target_id="assign_wrapup", extra={"os_user": getpass.getuser()})  # fmt: skip
            raise refused(MAY_NOT_ASSIGN.format(username=username))
        return Requester.cli(user)

    # --- one leg -------------------------------------------------------------------------------------
    def _one(self, options: dict[str, Any], requester: Requester) -> int:
        try:
            assignment = assignment_request(
                conversation_id=options["conversation"].strip(), participant_id=(options["participant"] or "").strip() or None,
                code=options["code"].strip(), notes=options["notes"], requester=requester, source=Source.CLI,
            )  # fmt: skip
        except ValidationError as error:  # the service's own message, e.g. which agent legs exist
            raise refused(" ".join(error.messages)) from None
        return assignment.pk

    # --- a CSV ---------------------------------------------------------------------------------------
    def _from_csv(self, path: Path, requester: Requester, *, skip_invalid: bool, feed: bool) -> tuple[list[int], int]:
        """(queued ids, refused rows); every row is judged before anything is queued."""
        try:
            data = path.read_bytes()
        except OSError as error:
            raise usage_error(UNREADABLE.format(path=path, error=error.strerror or error)) from None
        parsed = parse_assignment_csv(data)
        whole_file = [e for e in parsed.errors if e.line <= 1]  # line 1 is the header
        if whole_file:  # not the contract's file at all (encoding, size, header, no rows)
            raise usage_error(BAD_FILE.format(path=path, error=whole_file[0]))
        try:
            preview = bulk_preview(wanted=[w for _, w in parsed.rows], lines=[n for n, _ in parsed.rows], requester=requester)
        except ValidationError as error:  # e.g. the configured write path
            raise refused(" ".join(error.messages)) from None
        bad = sorted([(e.line, e.message) for e in parsed.errors] + [(r.line, r.message) for r in preview.bad_rows])
        for line, message in bad:
            self.stderr.write(f"line {line}: {message}")
        total, good = len(bad) + len(preview.ok_rows), len(preview.ok_rows)
        if bad and not skip_invalid:
            raise refused(NOTHING_QUEUED.format(bad=len(bad), total=total, good=good))
        if not good:
            raise refused(NO_GOOD_ROWS.format(total=total))
        try:
            job = bulk_job_create(preview=preview, requester=requester, source=Source.CSV, file_name=path.name, feed=feed)
        except ValidationError as error:  # a leg being written right now: the whole job rolled back
            raise refused(" ".join(error.messages)) from None
        ids = list(job.assignments.order_by("pk").values_list("pk", flat=True))
        self.stdout.write(f"Job #{job.pk}: {len(ids)} assignment(s) queued from {path.name}.")
        return ids, len(bad)

    # --- --wait ----------------------------------------------------------------------------------------
    def _wait(self, ids: list[int], timeout: float) -> list[Assignment]:
        """Drive the engine for our own assignments until each is final or the time is up.

        Safe beside a running cluster: a write is sent only by whoever claimed the row, so the
        worst case is that the cluster's worker does it and this loop sees the result.
        """
        deadline = time.monotonic() + timeout
        try:
            while live := list(Assignment.objects.filter(pk__in=ids, state__in=LIVE_STATES).order_by("pk")):
                for assignment in live:
                    assignment_execute(assignment_id=assignment.pk)  # does nothing when not due or claimed elsewhere
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                wake = _next_wake(Assignment.objects.filter(pk__in=ids, state__in=LIVE_STATES))
                if wake is None:
                    continue  # nothing live any more
                time.sleep(min(max((wake - timezone.now()).total_seconds(), 0.2), POLL_MAX, remaining))
        except KeyboardInterrupt:
            final = self._report(ids)
            raise refused(INTERRUPTED.format(count=sum(a.is_live for a in final))) from None
        final = self._report(ids)
        if still := sum(a.is_live for a in final):
            raise refused(STILL_LIVE.format(seconds=timeout, count=still))
        return final

    def _report(self, ids: Iterable[int]) -> list[Assignment]:
        final = list(Assignment.objects.filter(pk__in=list(ids)).order_by("pk"))
        for assignment in final:
            self.stdout.write(line_of(assignment))
        return final


def _next_wake(live: Iterable[Assignment]) -> datetime | None:
    """When the first live assignment is due again (a "sending" one: when its lease runs out)."""
    times = [a.lease_until if a.state == State.SENDING else a.next_attempt_at for a in live]
    known = [t for t in times if t is not None]
    if times and not known:  # "sending" without a lease: look again soon
        return timezone.now()
    return min(known, default=None)
