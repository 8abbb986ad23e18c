"""`find_interactions`: the search page's selector from the command line (reports, cron jobs).

It builds the same ``Search`` the page's form builds and reads it with the same
``interaction_search_all`` as the page's CSV export, so the command and the page cannot
disagree about which legs match. Every argument is checked before the first Genesys call:
a usage error (exit 2) costs no API call.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from integrations.genesys import GenesysError
from wrapup_portal.accounts.selectors import queue_ids_for
from wrapup_portal.catalog.models import CodeGroup, WrapupCode
from wrapup_portal.interactions.forms import END_BEFORE_START, RANGE_IN_FUTURE, RANGE_TOO_LONG
from wrapup_portal.interactions.search import Search, WrapupState
from wrapup_portal.interactions.selectors import EXPORT_MAX_PAGES, LegRow, interaction_search_all

FIELDS = ("conversation_id", "participant_id", "queue_id", "user_id", "wrapup_code", "state")
USAGE_ERROR = 2
FAILED = 1  # Genesys failed, or the results were cut short
# --wrapup words; anything else is a code id or exact name. "code" is not one: the code itself is given.
WRAPUP_WORDS = (WrapupState.ANY, WrapupState.NONE, WrapupState.TIMEOUT, WrapupState.SYSTEM, WrapupState.CODED)

BAD_DATE = "--{option} {value!r} is not an ISO date or date-time (2026-05-01, 2026-05-01T10:00, with Z or +02:00 if not UTC)."
UNKNOWN_USER = "--as {username!r}: no such user."
UNKNOWN_QUEUE = "--queue {value!r}: no queue with that id or exact name in the catalog (run sync_catalog if it is new)."
AMBIGUOUS_QUEUE = "--queue {value!r}: {count} queues have that name; give one of their ids: {ids}."
QUEUE_NOT_GRANTED = "--queue {value!r}: queue {name!r} ({queue_id}) is not granted to {username}."
UNKNOWN_CODE = ("--wrapup {value!r}: no wrap-up code with that id or exact name in the catalog "
                "(or use any, none, timeout, system, coded).")  # fmt: skip
AMBIGUOUS_CODE = "--wrapup {value!r}: {count} codes have that name; give one of their ids: {ids}."
GENESYS_FAILURE = "Genesys could not answer the search: {error}"
NO_QUEUES = "{username} has no queues granted (or may not search interactions): nothing to search."
TRUNCATED = (f"Stopped after {EXPORT_MAX_PAGES} pages of Genesys results: the output above is incomplete. "
             "Narrow the range (or the queues) and run again.")  # fmt: skip


def usage_error(message: str) -> CommandError:
    return CommandError(message, returncode=USAGE_ERROR)


def parse_instant(value: str, option: str) -> datetime:
    """An ISO date or date-time; without an offset it is UTC (not the portal's time zone)."""
    try:
        parsed = datetime.fromisoformat(value.strip())  # Python 3.11: dates, T or space, Z, offsets
    except ValueError:
        raise usage_error(BAD_DATE.format(option=option, value=value)) from None
    return parsed.replace(tzinfo=dt_timezone.utc) if timezone.is_naive(parsed) else parsed


def _only(matches: Sequence[Any], *, key: str, ambiguous: str, value: str) -> Any | None:
    """The one match, or None; a name that several share is a usage error listing their ids."""
    if len(matches) > 1:
        ids = sorted(getattr(match, key) for match in matches)
        raise usage_error(ambiguous.format(value=value, count=len(ids), ids=", ".join(ids)))
    return matches[0] if matches else None


def resolve_queue(value: str) -> CodeGroup:
    """A catalog queue by id, else by exact name (a current queue before a removed one)."""
    group = CodeGroup.objects.filter(queue_id=value).first()
    if group is None:
        named = CodeGroup.objects.filter(name=value)
        pick = {"key": "queue_id", "ambiguous": AMBIGUOUS_QUEUE, "value": value}
        group = _only(list(named.filter(removed_at__isnull=True)), **pick) or _only(list(named.exclude(removed_at=None)), **pick)
    if group is None:
        raise usage_error(UNKNOWN_QUEUE.format(value=value))
    return group


def resolve_code(value: str) -> WrapupCode:
    """A catalog code by id, else by exact name (an active code before a retired one)."""
    code = WrapupCode.objects.filter(code_id=value).first()
    if code is None:
        named = WrapupCode.objects.filter(name=value)
        pick = {"key": "code_id", "ambiguous": AMBIGUOUS_CODE, "value": value}
        code = _only(list(named.filter(retired_at__isnull=True)), **pick) or _only(list(named.exclude(retired_at=None)), **pick)
    if code is None:
        raise usage_error(UNKNOWN_CODE.format(value=value))
    return code


def render(rows: list[LegRow], fmt: str) -> str:
    """The contract's columns, as CSV with a header row or as one JSON array of objects."""
    records = [{name: getattr(row, name) for name in FIELDS} for row in rows]
    if fmt == "json":
        return json.dumps(records, indent=2) + "\n"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    return buffer.getvalue()


class Command(BaseCommand):
    help = (
        "Find the agent legs of the conversations that started in [--start, --end), with the search page's "
        "filters and selector: one row per leg, columns " + ", ".join(FIELDS) + ". Dates are ISO "
        "(2026-05-01, 2026-05-01T10:00, 2026-05-01T10:00Z, 2026-05-01T12:00+02:00); without an offset they are UTC. "
        "Exit 0 on success (also when nothing matches); 1 when Genesys fails, or when the results were cut short "
        f"after {EXPORT_MAX_PAGES} pages (the rows found are printed, a warning goes to stderr); 2 for usage errors, "
        "which make no Genesys call."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", required=True, metavar="ISO", help="first instant of the interval (naive = UTC)")
        parser.add_argument("--end", required=True, metavar="ISO", help="end of the interval, exclusive (naive = UTC)")
        parser.add_argument("--queue", action="append", default=[], metavar="ID_OR_NAME",
                            help="only this queue: its id or exact name in the catalog (repeatable)")  # fmt: skip
        parser.add_argument("--wrapup", default=WrapupState.ANY, metavar="any|none|timeout|system|coded|CODE",
                            help="none: ACW begun or over and no code; timeout: ININ-WRAP-UP-TIMEOUT; system: any "
                                 "ININ-* code; coded: any real code; CODE: that code (id or exact name); default any")  # fmt: skip
        parser.add_argument("--as", dest="as_user", metavar="USERNAME",
                            help="only the queues this user may see (default: every queue)")  # fmt: skip
        parser.add_argument("--format", choices=("csv", "json"), default="csv", help="csv (with a header row, the default) or json")

    def handle(self, *args: Any, **options: Any) -> None:
        search, username = self._search(options)
        if search is None:  # --as a user with no queues: the page would show nothing either
            self.stderr.write(NO_QUEUES.format(username=username))
            self.stdout.write(render([], options["format"]), ending="")
            return
        rows: list[LegRow] = []
        truncated = False
        try:
            # Collected before printing: a failure on page 3 must not leave half a JSON array behind.
            for row in interaction_search_all(search=search):
                if row is None:
                    truncated = True
                else:
                    rows.append(row)
        except GenesysError as error:
            raise CommandError(GENESYS_FAILURE.format(error=error), returncode=FAILED) from error
        self.stdout.write(render(rows, options["format"]), ending="")
        if truncated:
            raise CommandError(TRUNCATED, returncode=FAILED)

    def _search(self, options: dict[str, Any]) -> tuple[Search | None, str]:
        """The options as the page's ``Search``, scoped to ``--as``; raises a usage error before any API call."""
        start, end = parse_instant(options["start"], "start"), parse_instant(options["end"], "end")
        now = timezone.now()
        max_days = settings.PORTAL_SEARCH_MAX_DAYS
        # The page's own rules and messages (forms.py), so the two refuse the same ranges.
        if end <= start:
            raise usage_error(END_BEFORE_START)
        if end - start > timedelta(days=max_days):
            raise usage_error(RANGE_TOO_LONG.format(days=max_days))
        if start > now:
            raise usage_error(RANGE_IN_FUTURE)

        username = options["as_user"] or ""
        allowed: set[str] | None = None
        if options["as_user"] is not None:
            user = User.objects.filter(username=username).first()
            if user is None:
                raise usage_error(UNKNOWN_USER.format(username=username))
            allowed = queue_ids_for(user=user)

        queue_ids: list[str] = []
        for value in options["queue"]:
            group = resolve_queue(value)
            # The page offers only granted queues; Search.scoped would drop this one silently.
            if allowed is not None and group.queue_id not in allowed:
                raise usage_error(QUEUE_NOT_GRANTED.format(value=value, name=group.name, queue_id=group.queue_id, username=username))
            if group.queue_id not in queue_ids:
                queue_ids.append(group.queue_id)

        wrapup, code_id = options["wrapup"], None
        if wrapup not in WRAPUP_WORDS:
            wrapup, code_id = WrapupState.CODE, resolve_code(options["wrapup"]).code_id

        search = Search(start=start, end=min(end, now), queue_ids=tuple(queue_ids), wrapup=wrapup, code_id=code_id)
        return search.scoped(allowed), username
