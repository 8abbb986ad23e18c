"""`import_rules FILE`: create or update auto-assign rules from a rule file, all or nothing, audited.

The file format is in ``wrapup_portal.assignments.rule_files`` and the README. Exit status: 0 when
every rule was imported; 2 when the file cannot be read or any rule in it is wrong (the message
names the rule and the key), and then nothing has changed.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from wrapup_portal.assignments.models import Rule
from wrapup_portal.assignments.rule_files import RuleFileError, rules_import
from wrapup_portal.audit.services import Actor

USAGE_ERROR = 2
UNREADABLE = "{path}: cannot read it ({error})."
IMPORTED = "{count} rule(s) imported from {path}: {created} created, {updated} updated or unchanged."


class Command(BaseCommand):
    help = "Create or update auto-assign rules from a JSON rule file, all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help='JSON: {"rules": [{"name", "queue", "code", ...}]}')

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(UNREADABLE.format(path=path, error=error), returncode=USAGE_ERROR) from None
        before = set(Rule.objects.values_list("name", flat=True))
        try:
            rules = rules_import(text=text, actor=Actor.cli(getpass.getuser()))
        except RuleFileError as error:
            raise CommandError(f"{path}: {error} Nothing was changed.", returncode=USAGE_ERROR) from None
        created = sum(rule.name not in before for rule in rules)
        self.stdout.write(IMPORTED.format(count=len(rules), path=path, created=created, updated=len(rules) - created))
