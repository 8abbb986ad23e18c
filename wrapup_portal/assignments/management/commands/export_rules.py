"""`export_rules`: print every auto-assign rule as the rule file `import_rules` reads (JSON)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from wrapup_portal.assignments.rule_files import rules_document, rules_dumps


class Command(BaseCommand):
    help = "Print the auto-assign rules as a JSON rule file (the format import_rules reads)."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(rules_dumps(rules_document()), ending="")
