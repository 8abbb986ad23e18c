"""`verify_audit`: exit 0 when the chain is intact; exit 1 with a first line naming the first broken event."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wrapup_portal.audit.services import audit_checkpoint_record
from wrapup_portal.audit.verification import audit_chain_verify


class Command(BaseCommand):
    help = "Recompute the audit hash chain and compare it with the signed checkpoints. Exit 1 if broken."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--checkpoint", action="store_true", help="also record a signed checkpoint when intact (and an event either way)")

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_checkpoint_record() if options["checkpoint"] else audit_chain_verify()
        if not result.ok:
            # The contract: the first line names the first broken event as #<sequence>.
            self.stderr.write(result.first_line)
            self.stderr.write(f"{result.checked} events before it verified; checked against {result.checkpoints} checkpoints.")
            sys.exit(1)
        self.stdout.write(result.first_line)
        self.stdout.write(f"Checked against {result.checkpoints} signed checkpoints.")
