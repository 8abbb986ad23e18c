"""OAuth client credentials, token self-checks, users/me refusal, token expiry."""

from __future__ import annotations

import pytest
import requests

from .helpers import assert_error

pytestmark = pytest.mark.integration


def test_client_credentials_token_has_the_documented_keys(sandbox):
    response = requests.post(f"{sandbox.login_url}/oauth/token", auth=(sandbox.client_id, sandbox.client_secret),
                             data={"grant_type": "client_credentials"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 86400
    assert response.headers["ININ-Correlation-Id"]
    assert response.headers["inin-ratelimit-allowed"] == "300"
    assert sandbox.stats()["tokens_issued"] == 1


@pytest.mark.parametrize("auth", [("wrapup-portal-demo", "wrong"), ("someone-else", "wrapup-portal-demo-secret"), None])
def test_bad_client_credentials_get_an_oauth_error_not_an_error_body(sandbox, auth):
    response = requests.post(f"{sandbox.login_url}/oauth/token", auth=auth, data={"grant_type": "client_credentials"})
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client" and body["description"]
    assert "code" not in body and "status" not in body
    assert sandbox.stats()["tokens_issued"] == 0


def test_unsupported_grant_type_is_400(sandbox):
    response = requests.post(f"{sandbox.login_url}/oauth/token", auth=(sandbox.client_id, sandbox.client_secret),
                             data={"grant_type": "password"})
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_token_lifetime_knob_sets_expires_in(sandbox):
    sandbox.configure(token_lifetime_seconds=300)
    response = requests.post(f"{sandbox.login_url}/oauth/token", auth=(sandbox.client_id, sandbox.client_secret),
                             data={"grant_type": "client_credentials"})
    assert response.json()["expires_in"] == 300


def test_tokens_me_describes_organisation_scopes_and_client(sandbox):
    response = sandbox.api("GET", "/api/v2/tokens/me")
    assert response.status_code == 200
    body = response.json()
    org = sandbox.org()["organization"]
    assert body["organization"]["id"] == org["id"] and body["organization"]["name"] == org["name"]
    assert body["homeOrganization"]["id"] == org["id"]
    assert "routing:readonly" in body["authorizedScope"]
    assert body["OAuthClient"]["name"] == "Wrap-up Portal"


def test_organizations_me(sandbox):
    body = sandbox.api("GET", "/api/v2/organizations/me").json()
    assert body["id"] == sandbox.org()["organization"]["id"]
    assert body["selfUri"] == f"/api/v2/organizations/{body['id']}"


def test_users_me_is_refused_for_client_credentials(sandbox):
    body = assert_error(sandbox.api("GET", "/api/v2/users/me"), 400, "not.a.user")
    assert body["message"] == "This request is not valid when using the Client Credentials OAuth grant."


def test_missing_bearer_is_401_authentication_required(sandbox):
    response = requests.get(f"{sandbox.url}/api/v2/routing/wrapupcodes")
    body = assert_error(response, 401, "authentication.required")
    assert body["message"] == "No authentication bearer token specified in authorization header."
    assert "inin-ratelimit-count" in response.headers


def test_unknown_token_is_401_bad_credentials(sandbox):
    response = sandbox.api("GET", "/api/v2/routing/wrapupcodes", token="not-a-token")
    assert assert_error(response, 401, "bad.credentials")["message"] == "Invalid login credentials."


def test_token_expires_after_its_lifetime_on_the_sandbox_clock(sandbox):
    sandbox.configure(token_lifetime_seconds=120)
    token = sandbox.token()
    assert sandbox.api("GET", "/api/v2/tokens/me", token=token).status_code == 200
    sandbox.clock(advance_seconds=121)
    assert_error(sandbox.api("GET", "/api/v2/tokens/me", token=token), 401, "bad.credentials")
    assert sandbox.api("GET", "/api/v2/tokens/me").status_code == 200  # a new token works
