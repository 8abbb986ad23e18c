"""`archive_audit --out DIR`: export events past the retention period to a verified archive. Deletes nothing."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wrapup_portal.audit.services import Actor, ArchiveNotVerified, audit_archive_write


class Command(BaseCommand):
    help = (
        "Write the audit events older than AUDIT_RETENTION_DAYS that no archive holds yet to a JSON Lines "
        "file with its manifest, verify it, and record an audit event. Events are never deleted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, required=True, help="directory for the archive file")
        parser.add_argument("--retention-days", type=int, default=None, help="override AUDIT_RETENTION_DAYS for this run")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            archive = audit_archive_write(
                directory=options["out"], actor=Actor.cli(getpass.getuser()), retention_days=options["retention_days"]
            )
        except ArchiveNotVerified as exc:
            self.stderr.write(f"Archive does not verify, nothing recorded: {exc}")
            sys.exit(1)
        if archive.path is None:
            self.stdout.write("Nothing to archive: no event past the retention period is outside an archive.")
            return
        m = archive.manifest
        self.stdout.write(f"Archived {m['row_count']} events #{m['first_sequence']}..#{m['last_sequence']} to {archive.path}")
        self.stdout.write(f"Check it any time with: python manage.py verify_export {archive.path}")
