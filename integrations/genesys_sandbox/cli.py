"""Command line shared by ``python -m integrations.genesys_sandbox`` and ``manage.py run_sandbox``."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

from .config import KNOB_NAMES, KnobError, OrgSpec, SandboxConfig
from .server import SandboxServer


def _int_range(value: str) -> tuple[int, int]:
    low, _, high = value.partition(",")
    try:
        return int(low), int(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected MIN,MAX, got {value!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options: address, seed, speed, organisation size, and any knob."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="API host port (default 8765)")
    parser.add_argument("--login-port", type=int, default=None,
                        help="login host port, /oauth/* (default: --port + 1, i.e. 8766; a free port with --port 0)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--speed", type=float, default=1.0, help="simulated traffic speed factor")
    parser.add_argument("--no-live", dest="live", action="store_false", help="no simulated traffic")
    for name, default in (("divisions", 3), ("queues", 8), ("codes", 40), ("agents", 30), ("days", 21)):
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--conversations", type=int, default=None, help="history size (default ~4 per agent-day)")
    parser.add_argument("--codes-per-queue", type=_int_range, default=(6, 12), metavar="MIN,MAX",
                        help="codes each queue offers besides the three general ones (default 6,12)")
    parser.add_argument("--webhook-url", default=None)
    parser.add_argument("--webhook-secret", default=os.environ.get("WRAPUP_WEBHOOK_SECRET"))
    parser.add_argument("--webhook-format", default="bare", choices=("bare", "eventbridge"))
    parser.add_argument("--set", dest="knobs", action="append", default=[], metavar="KNOB=VALUE",
                        help=f"any knob: {', '.join(KNOB_NAMES)}")


def build_server(options: dict[str, Any]) -> SandboxServer:
    """A server from parsed options; ``KnobError`` for a bad ``--set``."""
    config = SandboxConfig(webhook_url=options.get("webhook_url"), webhook_secret=options.get("webhook_secret"),
                           webhook_format=options.get("webhook_format") or "bare")
    changes = {}
    for item in options.get("knobs") or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise KnobError(f"--set expects KNOB=VALUE, got {item!r}")
        changes[name.strip()] = value.strip()
    config.update(changes)
    org = OrgSpec(divisions=options["divisions"], queues=options["queues"], codes=options["codes"],
                  agents=options["agents"], days=options["days"], conversations=options.get("conversations"),
                  codes_per_queue=options.get("codes_per_queue") or (6, 12))
    return SandboxServer(options["host"], options["port"], login_port=options.get("login_port"), seed=options["seed"],
                         speed=options["speed"], live=options["live"], config=config, org=org)


def banner(server: SandboxServer) -> str:
    """What to print once the server is listening."""
    from .auth import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

    app = server.app
    return (f"Genesys sandbox: API {server.url}, login {server.login_url} "
            f"(seed {app.seed}, speed {app.speed}, live {app.live}): "
            f"{len(app.store.org.queues)} queues, {len(app.store.org.codes)} codes, "
            f"{len(app.store.org.agents)} agents, {app.store.count()} conversations.\n"
            f"Client id {DEMO_CLIENT_ID}, secret {DEMO_CLIENT_SECRET}. Control: {server.url}/__sandbox/config")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m integrations.genesys_sandbox``."""
    parser = argparse.ArgumentParser(prog="python -m integrations.genesys_sandbox", description=__doc__)
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    try:
        server = build_server(options)
    except KnobError as err:
        parser.error(str(err))
    print(banner(server), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
