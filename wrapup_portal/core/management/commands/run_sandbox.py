"""``manage.py run_sandbox [--port 8765] [--login-port 8766] [--seed N] [--speed X] …``: the Genesys sandbox."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.genesys_sandbox import KnobError
from integrations.genesys_sandbox.cli import add_arguments, banner, build_server


class Command(BaseCommand):
    help = "Serve the local Genesys Cloud emulator: the API host (with /__sandbox control) and the login host on the next port."

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            server = build_server(options)
        except (KnobError, OSError) as err:
            raise CommandError(str(err)) from err
        self.stdout.write(banner(server))
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
