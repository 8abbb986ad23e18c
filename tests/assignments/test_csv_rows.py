"""The assignment CSV parser: every bad row named by its line, nothing guessed."""

from __future__ import annotations

from wrapup_portal.assignments import csv_rows
from wrapup_portal.assignments.csv_rows import parse_assignment_csv
from wrapup_portal.assignments.services import Wanted

CID = "0ae82ce3-5c8e-4865-82d4-caa2a4e6a1de"
PID = "7dd60e2f-7c6d-44b0-a894-0bd3b8840f46"


def test_rows_keep_their_line_numbers_and_optional_columns_may_be_empty() -> None:
    data = (f"conversation_id,participant_id,code,notes\r\n{CID},{PID},Billing - Resolved,called back\r\n"
            f"\r\n{CID},,General - Escalated,\r\n").encode()  # fmt: skip
    parsed = parse_assignment_csv(data)
    assert parsed.errors == ()
    assert parsed.rows == ((2, Wanted(CID, PID, "Billing - Resolved", "called back")),
                           (4, Wanted(CID, "", "General - Escalated", "")))  # fmt: skip


def test_a_bom_and_a_header_without_the_optional_columns_are_fine() -> None:
    parsed = parse_assignment_csv(f"\ufeffconversation_id,code\n{CID},X\n".encode())
    assert parsed.rows == ((2, Wanted(CID, "", "X", "")),)


def test_bad_rows_are_reported_with_their_line() -> None:
    data = f"conversation_id,participant_id,code,notes\n{CID},{PID},,x\n,{PID},X,\n{CID},{PID},X,{'n' * 2001}\n{CID},{PID},X,a,b\n"
    parsed = parse_assignment_csv(data.encode())
    assert parsed.rows == ()
    assert [str(e) for e in parsed.errors] == [
        "line 2: code is empty.", "line 3: conversation_id is empty.", f"line 4: {csv_rows.NOTES_TOO_LONG}",
        f"line 5: {csv_rows.EXTRA_CELLS}",
    ]  # fmt: skip


def test_whole_file_problems() -> None:
    assert parse_assignment_csv(b"id,code\nx,y\n").errors[0].message == csv_rows.BAD_HEADER
    assert parse_assignment_csv(b"conversation_id,code\n").errors[0].message == csv_rows.EMPTY
    assert parse_assignment_csv(b"\xff\xfe\x00").errors[0].message == csv_rows.NOT_UTF8
    assert parse_assignment_csv(b"x" * (csv_rows.MAX_BYTES + 1)).errors[0].message == csv_rows.TOO_BIG
    many = "conversation_id,code\n" + f"{CID},X\n" * (csv_rows.MAX_ROWS + 1)
    assert parse_assignment_csv(many.encode()).errors[0].message == csv_rows.TOO_MANY
