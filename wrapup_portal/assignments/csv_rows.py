"""The assignment CSV (the contract's header ``conversation_id,participant_id,code,notes``), parsed.

Shared by the browser upload and ``assign_wrapup --csv``: both report each bad row with its
line number and reason, and neither queues anything before every row has been looked at.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.conf import settings

from wrapup_portal.assignments.services import NOTES_MAX, Wanted

HEADER = ("conversation_id", "participant_id", "code", "notes")
REQUIRED = ("conversation_id", "code")
MAX_ROWS = 5000
MAX_BYTES = settings.PORTAL_UPLOAD_MAX_BYTES  # also where the upload handler stops storing (core.uploads)

NOT_UTF8 = "The file is not UTF-8 text."
TOO_BIG = f"The file is larger than {MAX_BYTES // 1024 // 1024} MB."
BAD_HEADER = "The first line must be the header conversation_id,participant_id,code,notes (participant_id and notes may be left empty)."
TOO_MANY = f"At most {MAX_ROWS} rows per file; split it."
EMPTY = "The file has a header but no rows."
MISSING = "{column} is empty."
EXTRA_CELLS = "This row has more cells than the header."
NOTES_TOO_LONG = f"notes are longer than {NOTES_MAX} characters."


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class ParsedCsv:
    rows: tuple[tuple[int, Wanted], ...]  # (line number, request)
    errors: tuple[RowError, ...]  # line 0 = the file as a whole


def parse_assignment_csv(data: bytes) -> ParsedCsv:
    """Every row of the file, each either a request or an error naming its line."""
    if len(data) > MAX_BYTES:
        return ParsedCsv((), (RowError(0, TOO_BIG),))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ParsedCsv((), (RowError(0, NOT_UTF8),))
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [cell.strip().lower() for cell in next(reader, [])]
    if not set(REQUIRED) <= set(header) or set(header) - set(HEADER) or len(header) != len(set(header)):
        return ParsedCsv((), (RowError(1, BAD_HEADER),))
    rows: list[tuple[int, Wanted]] = []
    errors: list[RowError] = []
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are not rows
        if len(rows) + len(errors) >= MAX_ROWS:
            return ParsedCsv((), (RowError(0, TOO_MANY),))
        if len(cells) > len(header):
            errors.append(RowError(line, EXTRA_CELLS))
            continue
        values = dict(zip(header, (cell.strip() for cell in cells)))
        missing = [column for column in REQUIRED if not values.get(column)]
        if missing:
            errors.append(RowError(line, MISSING.format(column=missing[0])))
            continue
        if len(values.get("notes", "")) > NOTES_MAX:
            errors.append(RowError(line, NOTES_TOO_LONG))
            continue
        rows.append((line, Wanted(values["conversation_id"], values.get("participant_id", ""), values["code"],
                                  values.get("notes", ""))))  # fmt: skip
    if not rows and not errors:
        return ParsedCsv((), (RowError(0, EMPTY),))
    return ParsedCsv(tuple(rows), tuple(errors))
