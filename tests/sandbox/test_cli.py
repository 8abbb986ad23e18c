"""The command line: organisation size and knobs from flags; the Django command wraps it."""

from __future__ import annotations

import argparse

import pytest

from integrations.genesys_sandbox import KnobError
from integrations.genesys_sandbox.cli import add_arguments, build_server


def parse(*argv: str) -> dict:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return vars(parser.parse_args(list(argv)))


def test_flags_size_the_org_and_set_knobs():
    options = parse("--port", "0", "--seed", "9", "--no-live", "--queues", "12", "--codes", "60", "--agents", "40",
                    "--conversations", "200", "--set", "rate_limit=50", "--set", "write_window=always",
                    "--webhook-url", "http://127.0.0.1:1/hook", "--webhook-secret", "s")
    server = build_server(options)
    try:
        org = server.app.store.org
        assert (len(org.queues), len(org.codes), len(org.agents)) == (12, 60, 40)
        assert server.app.store.count() == 200 and server.app.seed == 9
        assert server.config.rate_limit == 50 and server.config.write_window == "always"
        assert server.config.webhook_url == "http://127.0.0.1:1/hook" and server.config.webhook_secret == "s"
    finally:
        server.close()


def test_bad_knob_is_refused():
    with pytest.raises(KnobError):
        build_server(parse("--port", "0", "--no-live", "--conversations", "0", "--set", "nope=1"))


def test_management_command_exposes_the_same_flags():
    from wrapup_portal.core.management.commands.run_sandbox import Command

    parser = Command().create_parser("manage.py", "run_sandbox")
    options = vars(parser.parse_args(["--port", "8766", "--seed", "3", "--speed", "2", "--queues", "1000",
                                      "--codes", "5000", "--conversations", "100000"]))
    assert (options["port"], options["seed"], options["speed"]) == (8766, 3, 2.0)
    assert (options["queues"], options["codes"], options["conversations"]) == (1000, 5000, 100000)
