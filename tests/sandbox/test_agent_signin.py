"""Emulated agent sign-in (implicit grant, authorization code + PKCE) for agent-token writes."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from .helpers import agents, assert_error

pytestmark = pytest.mark.integration
REDIRECT = "http://127.0.0.1:8000/genesys/widget/callback"


def sign_in(sandbox, agent, **params):
    query = {"client_id": sandbox.client_id, "redirect_uri": REDIRECT, "state": "xyz", **params}
    page = requests.get(f"{sandbox.login_url}/oauth/authorize", params=query)
    assert page.status_code == 200 and agent["email"] in page.text  # the sign-in form lists agents
    answer = requests.post(f"{sandbox.login_url}/oauth/authorize", data={**query, "username": agent["email"]},
                           allow_redirects=False)
    assert answer.status_code == 302
    return answer.headers["Location"]


def test_implicit_grant_gives_an_agent_token_that_writes_its_own_leg(sandbox):
    sandbox.configure(client_credentials_may_write=False)
    org = sandbox.org()
    queue = org["queues"][0]
    conv = sandbox.create_conversation(queueId=queue["id"], state="acw")
    agent = next(a for a in org["agents"] if a["id"] == agents(conv)[0]["userId"])
    location = sign_in(sandbox, agent, response_type="token")
    assert location.startswith(REDIRECT + "#")
    fragment = parse_qs(urlsplit(location).fragment)
    assert fragment["state"] == ["xyz"] and fragment["token_type"] == ["bearer"]
    token = fragment["access_token"][0]
    me = sandbox.api("GET", "/api/v2/users/me", token=token).json()
    assert me["id"] == agent["id"] and me["email"] == agent["email"]
    path = f"/api/v2/conversations/{conv['id']}/participants/{agents(conv)[0]['id']}"
    assert sandbox.api("PATCH", path, token=token, json={"wrapup": {"code": queue["codeIds"][0]}}).status_code == 202


def test_authorization_code_with_pkce(sandbox):
    agent = sandbox.org()["agents"][3]
    verifier = "a-long-random-verifier-string-for-the-test-0123456789"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    location = sign_in(sandbox, agent, response_type="code", code_challenge=challenge, code_challenge_method="S256")
    code = parse_qs(urlsplit(location).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "client_id": sandbox.client_id, "code_verifier": "wrong"}
    refused = requests.post(f"{sandbox.login_url}/oauth/token", data=form)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    location = sign_in(sandbox, agent, response_type="code", code_challenge=challenge, code_challenge_method="S256")
    form["code"] = parse_qs(urlsplit(location).query)["code"][0]
    form["code_verifier"] = verifier
    granted = requests.post(f"{sandbox.login_url}/oauth/token", data=form)
    assert granted.status_code == 200
    body = granted.json()
    assert {"access_token", "token_type", "expires_in", "refresh_token"} <= set(body)
    assert sandbox.api("GET", "/api/v2/users/me", token=body["access_token"]).json()["id"] == agent["id"]
    assert requests.post(f"{sandbox.login_url}/oauth/token", data=form).status_code == 400  # codes are single use
    refreshed = requests.post(f"{sandbox.login_url}/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": body["refresh_token"], "client_id": sandbox.client_id})
    assert refreshed.status_code == 200 and refreshed.json()["access_token"] != body["access_token"]


def test_sign_in_errors(sandbox):
    base = {"client_id": sandbox.client_id, "redirect_uri": REDIRECT, "response_type": "token"}
    assert requests.get(f"{sandbox.login_url}/oauth/authorize", params={**base, "client_id": "x"}).status_code == 400
    assert requests.get(f"{sandbox.login_url}/oauth/authorize", params={**base, "response_type": "x"}).status_code == 400
    unknown = requests.post(f"{sandbox.login_url}/oauth/authorize", data={**base, "username": "nobody@x"},
                            allow_redirects=False)
    assert unknown.status_code == 400 and unknown.json()["error"] == "access_denied"


def test_agent_token_cannot_write_someone_elses_leg_even_when_apps_may(sandbox):
    queue = sandbox.org()["queues"][0]
    conv = sandbox.create_conversation(queueId=queue["id"], state="acw")
    other = next(a for a in sandbox.org()["agents"] if a["id"] != agents(conv)[0]["userId"])
    path = f"/api/v2/conversations/{conv['id']}/participants/{agents(conv)[0]['id']}"
    response = sandbox.api("PATCH", path, token=sandbox.agent_token(other["id"]),
                           json={"wrapup": {"code": queue["codeIds"][0]}})
    assert_error(response, 403, "not.authorized")
