"""Spreadsheet-safe CSV cells: the OWASP single-quote prefix, and its exact undo.

A spreadsheet may run a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
as a formula, so a failed sign-in as `=HYPERLINK(...)` would put a live formula
into the compliance officer's sheet. Such a text cell is written with a `'` in front, which
spreadsheets read as "text" and hide. A value that already starts with `'` gets one too, so
the rule can be undone exactly: remove one leading `'` from every cell that starts with one.
Audit exports hash the stored values and state this rule in their manifest (`CELL_ESCAPING`).
Every CSV the portal writes goes through `csv_cell_escape`: audit exports, interaction exports.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"
_ESCAPED_STARTS = frozenset((*FORMULA_STARTS, QUOTE))

# Stated in each CSV export's manifest, so that any verifier can undo it.
CELL_ESCAPING: dict[str, Any] = {
    "prefix": QUOTE,
    "when_text_starts_with": [*FORMULA_STARTS, QUOTE],
    "undo": "remove one leading ' from every cell that starts with '",
}


def csv_cell_escape(value: Any) -> Any:
    """The value to write: text that a spreadsheet could run gets a leading `'`; anything else is as is."""
    # Numbers stay numbers (only text can carry a formula), so a negative int is written as -5.
    if isinstance(value, str) and value[:1] in _ESCAPED_STARTS:
        return QUOTE + value
    return value


def csv_cell_unescape(text: str) -> str:
    """The stored value of a cell written by `csv_cell_escape`."""
    return text[1:] if text.startswith(QUOTE) else text
