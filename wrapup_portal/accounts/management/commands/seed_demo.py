from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from wrapup_portal.accounts.services import demo_grants_seed, demo_users_seed


class Command(BaseCommand):
    help = "Create the demo users lead, admin and compliance with their roles, and print their passwords."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--grants", action="store_true",
            help="instead: grant the team lead two queues once the code catalog has been synced",
        )
        parser.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                            help="with --grants: how long to wait for the first catalog sync")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["grants"]:
            self._grants(options["wait"])
            return
        users = demo_users_seed()
        self.stdout.write("Demo users (sign in at http://127.0.0.1:8000/accounts/login/):")
        for user in users:
            state = "created" if user.created else "ready"
            self.stdout.write(f"  {user.username:<11} {user.role:<11} password: {user.password}   ({state})")

    def _grants(self, wait: float) -> None:
        deadline = time.monotonic() + wait
        # The cluster syncs the catalog as soon as it starts; the groups appear with it.
        while not (names := demo_grants_seed()) and time.monotonic() < deadline:
            time.sleep(2)
        if names:
            self.stdout.write(f"Team lead 'lead' may act on: {', '.join(names)}")
        else:
            self.stdout.write("No code groups yet: sync the catalog, then run `seed_demo --grants` again.")
