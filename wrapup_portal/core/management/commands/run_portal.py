"""Start the whole demo: the Genesys sandbox, the django-q2 cluster and the web server.

Ctrl-C stops all three; if one of them exits on its own, the others are stopped too, so
a half-running portal never lingers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


def _interrupt(signum: int, frame: object) -> None:
    # SIGTERM (e.g. from a process manager) stops the children like Ctrl-C does.
    raise KeyboardInterrupt


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except ProcessLookupError:
        pass


class Command(BaseCommand):
    help = "Run the sandbox (unless a real Genesys org is configured), the cluster and the web server together."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000", help="web server address (default 127.0.0.1:8000)")
        parser.add_argument("--no-sandbox", action="store_true", help="do not start the local Genesys sandbox")

    def handle(self, *args: Any, **options: Any) -> None:
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        commands: dict[str, list[str]] = {}
        if settings.GENESYS_USES_SANDBOX and not options["no_sandbox"]:
            # The ports the web and cluster processes' settings point at: API and login host.
            commands["sandbox"] = [*manage, "run_sandbox", "--port", str(urlsplit(settings.SANDBOX_URL).port),
                                   "--login-port", str(urlsplit(settings.SANDBOX_LOGIN_URL).port)]
        commands["cluster"] = [*manage, "qcluster"]
        commands["web"] = [*manage, "runserver", options["addr"], "--noreload"]

        # Each child leads its own process group: Ctrl-C reaches only this supervisor, which
        # then stops each child once (a cluster signalled twice can hang half-stopped), and
        # can kill a child together with its own children (the cluster's workers).
        processes = {name: subprocess.Popen(argv, start_new_session=True) for name, argv in commands.items()}
        self.stdout.write(f"Started {', '.join(processes)}. Portal: http://{options['addr']}/  (Ctrl-C stops all)")
        if "sandbox" in processes:
            # One-shot, not supervised: gives the demo team lead queues once the first sync is in.
            subprocess.Popen([*manage, "seed_demo", "--grants", "--wait", "120"], start_new_session=True)
        signal.signal(signal.SIGTERM, _interrupt)
        exit_code = 0
        try:
            while True:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with status {process.returncode}; stopping the rest.")
                        exit_code = process.returncode or 1
                        raise KeyboardInterrupt
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()
            deadline = time.monotonic() + 15
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
                _signal_group(process, signal.SIGKILL)  # stragglers, e.g. workers of a dead cluster
        if exit_code:
            sys.exit(exit_code)
