from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from wrapup_portal.accounts.services import demo_users_seed


class Command(BaseCommand):
    help = "Create the demo users lead, admin and compliance with their roles, and print their passwords."

    def handle(self, *args: Any, **options: Any) -> None:
        users = demo_users_seed()
        self.stdout.write("Demo users (sign in at http://127.0.0.1:8000/accounts/login/):")
        for user in users:
            state = "created" if user.created else "ready"
            self.stdout.write(f"  {user.username:<11} {user.role:<11} password: {user.password}   ({state})")
