"""Streamed exports (CSV, JSON Lines) with a manifest, and the check of an exported file.

An export is every event matching a filter up to the chain head at the moment it started,
oldest first, one line per event with every hashed field plus `hash`. Its last line is the
manifest: filter, row count, first and last sequence, head sequence and hash, the SHA-256 of
every byte before the manifest line, and an HMAC signature over the manifest. CSV cells are
spreadsheet-safe (`csv_cells`); the manifest states that rule and the check undoes it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.utils import timezone

from wrapup_portal.audit.chain import (
    ROW_FIELDS, canonical_extra, canonical_json, canonical_time, event_hash_from_mapping, format_time, row_json, sign, signature_ok,
)
from wrapup_portal.audit.csv_cells import CELL_ESCAPING, csv_cell_escape, csv_cell_unescape
from wrapup_portal.audit.selectors import AuditFilter, audit_event_count, audit_event_get, audit_event_rows

CSV_MANIFEST_PREFIX = "#manifest "
CHUNK_ROWS = 2000  # rows per yielded chunk: bounded memory, few tiny writes
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}
_TIME_AT, _EXTRA_AT = ROW_FIELDS.index("occurred_at"), ROW_FIELDS.index("extra")


def _csv_chunks(rows: Iterator[tuple[Any, ...]], *, header: bool = True) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    buffer = io.StringIO()
    # CRLF (RFC 4180), not "\n": the writer quotes a cell only for the characters of its line
    # terminator, so with "\n" a bare "\r" in a value went out unquoted and a spreadsheet read
    # the rest of the value as a new row, whose first cell could be a formula.
    writer = csv.writer(buffer, lineterminator="\r\n")
    if header:
        writer.writerow(ROW_FIELDS)
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        values = list(row)
        values[_TIME_AT] = canonical_time(values[_TIME_AT])
        values[_EXTRA_AT] = canonical_extra(values[_EXTRA_AT], stored_canonical=True)
        writer.writerow(map(csv_cell_escape, values))
        batch.append(row)
        if len(batch) >= CHUNK_ROWS:
            yield buffer.getvalue(), batch
            buffer.seek(0)
            buffer.truncate()
            batch = []
    yield buffer.getvalue(), batch


def _jsonl_chunks(rows: Iterator[tuple[Any, ...]]) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    lines: list[str] = []
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        lines.append(row_json(row, stored_canonical=True) + "\n")
        batch.append(row)
        if len(batch) >= CHUNK_ROWS:
            yield "".join(lines), batch
            lines, batch = [], []
    yield "".join(lines), batch


# Inside the JSON strings of a CSV manifest line: characters a spreadsheet splits cells on.
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_CELL_BREAKS = {",": "\\u002c", ";": "\\u003b"}


def manifest_line(fmt: str, manifest: dict[str, Any]) -> str:
    if fmt != "csv":
        return canonical_json({"manifest": manifest}) + "\n"
    # A spreadsheet splits the line at commas (or semicolons), so a filter typed as `x,=cmd…` would
    # start a cell with a formula. Escaped as JSON \u escapes inside strings, every cell begins with
    # `#manifest`, a quote, a digit or a bracket; the JSON (and so the signature) reads the same.
    text = _JSON_STRING.sub(lambda m: "".join(_CELL_BREAKS.get(c, c) for c in m.group()), canonical_json(manifest))
    return f"{CSV_MANIFEST_PREFIX}{text}\n"


def export_stream(
    *,
    fmt: str,
    filters: AuditFilter,
    head_sequence: int,
    head_hash: str,
    export_event: int,
    generated_by: str,
    start: int = 0,
    on_complete: Callable[[dict[str, Any]], None] | None = None,
) -> Iterator[bytes]:
    """Yield the export in chunks; the manifest is the last line and goes to `on_complete`."""
    digest = hashlib.sha256()
    count, first, last = 0, None, None
    rows = audit_event_rows(filters=filters, upto=head_sequence, start=start)
    chunks = _csv_chunks(rows) if fmt == "csv" else _jsonl_chunks(rows)
    for text, batch in chunks:
        if batch:
            first = first if first is not None else batch[0][0]
            last = batch[-1][0]
            count += len(batch)
        data = text.encode()
        digest.update(data)
        if data:
            yield data
    manifest: dict[str, Any] = {
        "kind": "audit-export-manifest",
        "version": 1,
        "format": fmt,
        "filter": filters.as_dict(),
        "after_sequence": start,
        "row_count": count,
        "first_sequence": first,
        "last_sequence": last,
        "head_sequence": head_sequence,
        "head_hash": head_hash,
        "export_event": export_event,
        "generated_by": generated_by,
        "generated_at": format_time(timezone.now()),
        "sha256": digest.hexdigest(),
    }
    if fmt == "csv":
        manifest["cell_escaping"] = CELL_ESCAPING
    manifest["signature"] = sign(manifest)
    if on_complete is not None:
        on_complete(manifest)
    yield manifest_line(fmt, manifest).encode()


@dataclass
class ExportCheck:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)

    def fail(self, message: str) -> None:
        self.ok = False
        self.problems.append(message)


def _read_manifest(line: bytes) -> dict[str, Any]:
    text = line.decode().strip()
    text = text.removeprefix(CSV_MANIFEST_PREFIX.strip()).strip()
    data = json.loads(text)
    return data.get("manifest", data)


def _records(path: Path, fmt: str, *, escaped: bool = False) -> Iterator[dict[str, Any]]:
    with path.open(newline="", encoding="utf-8") as handle:
        if fmt == "csv":
            reader = csv.reader(handle)
            header = next(reader, None)
            for row in reader:
                if row and row[0].startswith(CSV_MANIFEST_PREFIX.strip()):
                    return
                # Hashes are of the stored values: undo the escaping the manifest states.
                cells = map(csv_cell_unescape, row) if escaped else row
                record: dict[str, Any] = dict(zip(header or (), cells))
                record["sequence"] = int(record["sequence"])
                record["extra"] = json.loads(record["extra"])
                yield record
        else:
            for line in handle:
                record = json.loads(line)
                if "manifest" in record:
                    return
                yield record


def export_file_check(path: Path, *, check_signature: bool = True, against_db: bool = False) -> ExportCheck:
    """Check an exported file against its manifest (digest, rows, hashes, signature, and optionally the database)."""
    result = ExportCheck()
    digest, previous = hashlib.sha256(), None
    with path.open("rb") as handle:
        for line in handle:
            if previous is not None:
                digest.update(previous)
            previous = line
    if previous is None:
        result.fail("the file is empty")
        return result
    try:
        manifest = result.manifest = _read_manifest(previous)
    except (ValueError, AttributeError):
        result.fail("the last line is not a manifest")
        return result
    if digest.hexdigest() != manifest.get("sha256"):
        result.fail(f"SHA-256 of the file is {digest.hexdigest()}, the manifest says {manifest.get('sha256')}")
    if check_signature:
        unsigned = {k: v for k, v in manifest.items() if k != "signature"}
        if not signature_ok(unsigned, str(manifest.get("signature", ""))):
            result.fail("the manifest's signature is not this portal's (or the manifest was edited)")
    count, first, last = 0, None, 0
    for record in _records(path, manifest.get("format", "csv"), escaped="cell_escaping" in manifest):
        seq = record["sequence"]
        if seq <= last:
            result.fail(f"#{seq} is out of order")
        if event_hash_from_mapping(record) != record["hash"]:
            result.fail(f"#{seq} does not match its hash")
        count, first, last = count + 1, first or seq, seq
    if (count, first, last or None) != (manifest.get("row_count"), manifest.get("first_sequence"), manifest.get("last_sequence")):
        result.fail(f"the file has {count} rows #{first}..#{last}, the manifest says {manifest.get('row_count')} "
                    f"rows #{manifest.get('first_sequence')}..#{manifest.get('last_sequence')}")
    if against_db:
        _check_against_db(result, manifest)
    return result


def _check_against_db(result: ExportCheck, manifest: dict[str, Any]) -> None:
    head = manifest.get("head_sequence") or 0
    event = audit_event_get(sequence=head) if head else None
    if head and (event is None or event.hash != manifest.get("head_hash")):
        result.fail(f"the database's #{head} does not have the manifest's head hash")
    raw = manifest.get("filter", {})
    times = {k: datetime.fromisoformat(raw[k]) for k in ("since", "until") if raw.get(k)}
    filters = AuditFilter(**{**raw, **times})
    expected = audit_event_count(filters=filters, upto=head, start=manifest.get("after_sequence") or 0)
    if expected != manifest.get("row_count"):
        result.fail(f"the database has {expected} matching events up to #{head}, the export {manifest.get('row_count')}")
