"""Two hosts, as Genesys has: the API host and the login host, each refusing the other's paths."""

from __future__ import annotations

import argparse
import socket

import pytest
import requests

from integrations.genesys import GenesysClient, GenesysError
from integrations.genesys_sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, OrgSpec, SandboxServer
from integrations.genesys_sandbox.cli import add_arguments, build_server

from .helpers import assert_error

pytestmark = pytest.mark.integration

CREDENTIALS_GRANT = {"grant_type": "client_credentials"}
SMALL_ORG = OrgSpec(divisions=1, queues=1, codes=4, agents=1, days=1, conversations=0)


def test_login_and_api_are_two_ports(sandbox_server) -> None:
    assert sandbox_server.login_port != sandbox_server.port
    assert sandbox_server.login_url == f"http://127.0.0.1:{sandbox_server.login_port}"


def test_token_request_to_the_api_host_is_refused_and_issues_nothing(sandbox) -> None:
    response = requests.post(f"{sandbox.url}/oauth/token", auth=(sandbox.client_id, sandbox.client_secret),
                             data=CREDENTIALS_GRANT, timeout=10)
    assert_error(response, 404, "not.found")  # as any path the API host does not serve
    assert requests.get(f"{sandbox.url}/oauth/authorize", timeout=10).status_code == 404
    assert sandbox.stats()["tokens_issued"] == 0
    assert [(r["method"], r["path"], r["status"]) for r in sandbox.requests()] == [
        ("POST", "/oauth/token", 404), ("GET", "/oauth/authorize", 404)]


def test_api_calls_to_the_login_host_are_refused(sandbox) -> None:
    token = sandbox.token()  # a valid token: the host is wrong, not the credentials
    response = requests.get(f"{sandbox.login_url}/api/v2/tokens/me", headers={"Authorization": f"Bearer {token}"},
                            timeout=10)
    assert_error(response, 404, "not.found")
    assert requests.get(f"{sandbox.login_url}/__sandbox/config", timeout=10).status_code == 404
    assert sandbox.api("GET", "/api/v2/tokens/me", token=token).status_code == 200  # the API host serves it


def test_a_client_that_mixes_up_the_hosts_fails_and_gets_no_token(sandbox) -> None:
    mixed = GenesysClient(client_id=sandbox.client_id, client_secret=sandbox.client_secret,
                          api_url=sandbox.login_url, login_url=sandbox.url, timeout=(2.0, 5.0))  # fmt: skip
    with pytest.raises(GenesysError):
        mixed.token_info()
    assert sandbox.stats()["tokens_issued"] == 0
    # Its token request (with the client secret) reached the API host and was refused there.
    assert [(r["path"], r["status"]) for r in sandbox.requests()][:1] == [("/oauth/token", 404)]


def _free_port_pair() -> int:
    """A port p such that p and p + 1 are both free just now."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    pytest.skip("no two consecutive free ports")


def test_login_port_defaults_to_the_next_port_and_serves_tokens() -> None:
    port = _free_port_pair()
    with SandboxServer(port=port, live=False, org=SMALL_ORG) as server:
        assert (server.port, server.login_port) == (port, port + 1)  # 8765 → 8766 for the demo
        token = requests.post(f"{server.login_url}/oauth/token", auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
                              data=CREDENTIALS_GRANT, timeout=10)
        assert token.status_code == 200
        me = requests.get(f"{server.url}/api/v2/tokens/me", timeout=10,
                          headers={"Authorization": f"Bearer {token.json()['access_token']}"})
        assert me.status_code == 200


def test_cli_takes_a_login_port() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert vars(parser.parse_args([]))["login_port"] is None
    options = vars(parser.parse_args(["--port", "0", "--login-port", "0", "--no-live", "--conversations", "0"]))
    server = build_server(options)
    try:
        assert server.login_port not in (0, server.port)  # port 0: a free port for each
    finally:
        server.close()
