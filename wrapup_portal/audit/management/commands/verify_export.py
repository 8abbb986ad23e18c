"""`verify_export FILE`: check an audit export against its manifest (the last line of the file)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wrapup_portal.audit.exports import export_file_check


class Command(BaseCommand):
    help = "Check an audit export (CSV or JSON Lines) against its manifest. Exit 0 when it checks out, 1 otherwise."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--against-db", action="store_true", help="also re-run the filter on this portal's database: same row count, same head hash")
        parser.add_argument("--no-signature", action="store_true", help="skip the HMAC check (for a portal with another secret key)")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            self.stderr.write(f"{path}: no such file")
            sys.exit(2)
        result = export_file_check(path, check_signature=not options["no_signature"], against_db=options["against_db"])
        m = result.manifest
        if not result.ok:
            self.stderr.write(f"{path}: export does NOT check out: {result.problems[0]}")
            for problem in result.problems[1:20]:
                self.stderr.write(f"  also: {problem}")
            sys.exit(1)
        self.stdout.write(
            f"{path}: OK: {m['row_count']} rows #{m['first_sequence']}..#{m['last_sequence']}, "
            f"chain head #{m['head_sequence']} {m['head_hash']}, sha256 {m['sha256']}, filter {m['filter'] or 'none'}"
        )
