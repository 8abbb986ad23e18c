"""Single sign-on with OpenID Connect, against a local provider started by the test (no network).

The browser's round trip is followed by hand: the portal's start URL redirects to the provider's
authorize endpoint, which redirects back to the portal's callback with a code and the state; the
portal then exchanges the code, checks the id_token and maps the provider's groups to roles.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client

from tests.accounts.oidc_provider import OIDCProvider
from tests.conftest import PASSWORD
from wrapup_portal.accounts import oidc
from wrapup_portal.accounts.roles import ADMIN, COMPLIANCE, ROLES, TEAM_LEAD
from wrapup_portal.audit.models import Action, AuditEvent

pytestmark = pytest.mark.django_db

START, CALLBACK, LOGIN = "/accounts/sso/start/", "/accounts/sso/callback/", "/accounts/login/"


@pytest.fixture(scope="module")
def provider() -> Iterator[OIDCProvider]:
    server = OIDCProvider().start()
    yield server
    server.stop()


@pytest.fixture
def idp(provider: OIDCProvider, settings: Any) -> Iterator[OIDCProvider]:
    """Single sign-on switched on against the local provider (by its discovery document)."""
    provider.reset()
    oidc.forget_discovery()
    provider.switch_on(settings)
    yield provider
    oidc.forget_discovery()


def claims(username: str, *groups: str, **more: Any) -> dict[str, Any]:
    return {"sub": f"sub-{username}", "preferred_username": username, "email": f"{username}@example.com",
            "groups": list(groups), **more}


def to_provider(client: Client, start: str = START) -> str:
    """The portal's redirect to the provider's authorize URL."""
    response = client.get(start)
    assert response.status_code == 302, response.content
    assert response["Location"].startswith(oidc.oidc_endpoints().authorization)
    return response["Location"]


def back_from_provider(authorize_url: str) -> str:
    """What the provider redirects the browser to: the callback's path and query."""
    response = requests.get(authorize_url, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert location.path == CALLBACK
    return f"{location.path}?{location.query}"


def sso_sign_in(client: Client, provider: OIDCProvider, user_claims: dict[str, Any]) -> Any:
    provider.user = user_claims
    return client.get(back_from_provider(to_provider(client)))


def signed_in_as(client: Client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def role_names(user: User) -> set[str]:
    return set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))


# -- off by default ----------------------------------------------------------------------


def test_with_sso_off_its_urls_answer_404_and_the_sign_in_page_has_no_button(client: Client) -> None:
    assert client.get(START).status_code == 404
    assert client.get(CALLBACK + "?code=x&state=y").status_code == 404
    assert b"Sign in with" not in client.get(LOGIN).content


def test_with_sso_on_the_sign_in_page_offers_the_provider(client: Client, idp: OIDCProvider) -> None:
    body = client.get(LOGIN + "?next=/audit/").content.decode()
    assert "Sign in with Example IdP" in body
    assert f'href="{START}?next=/audit/"' in body


# -- the code flow, and the role mapping ----------------------------------------------------


@pytest.mark.parametrize(("group", "role"), [("cc-leads", TEAM_LEAD), ("cc-admins", ADMIN), ("cc-ops", ADMIN),
                                             ("cc-audit", COMPLIANCE)])
def test_code_flow_signs_in_with_the_role_the_group_maps_to(client: Client, idp: OIDCProvider, group: str,
                                                            role: str) -> None:
    response = sso_sign_in(client, idp, claims("casey", group, "unrelated-group"))
    assert response.status_code == 302 and response["Location"] == "/"
    user = signed_in_as(client)
    assert user is not None and user.username == "casey" and user.email == "casey@example.com"
    assert role_names(user) == {role}
    assert user.is_staff == (role == ADMIN)
    assert not user.has_usable_password()  # an SSO user has no password to guess
    assert client.get("/").status_code == 200
    event = AuditEvent.objects.filter(action=Action.SIGN_IN).latest("sequence")
    assert event.actor_username == "casey" and event.outcome == "ok"
    assert event.extra["via"] == "oidc" and event.extra["roles"] == [role]


def test_the_next_page_survives_the_round_trip(client: Client, idp: OIDCProvider, compliance: User) -> None:
    idp.user = claims("carla", "cc-audit")
    response = client.get(back_from_provider(to_provider(client, START + "?next=/audit/")))
    assert response["Location"] == "/audit/"


def test_role_changes_at_the_provider_apply_at_the_next_sign_in(idp: OIDCProvider) -> None:
    first = Client()
    sso_sign_in(first, idp, claims("robin", "cc-leads"))
    assert role_names(User.objects.get(username="robin")) == {TEAM_LEAD}
    second = Client()
    sso_sign_in(second, idp, claims("robin", "cc-admins", "cc-audit"))
    robin = User.objects.get(username="robin")
    assert role_names(robin) == {ADMIN, COMPLIANCE} and robin.is_staff
    third = Client()
    sso_sign_in(third, idp, claims("robin", "cc-leads"))
    robin.refresh_from_db()
    assert role_names(robin) == {TEAM_LEAD} and not robin.is_staff
    assert User.objects.filter(username="robin").count() == 1


# -- refusals ----------------------------------------------------------------------------------


def assert_refused(response: Any, client: Client, message: str, reason: str, status: int = 403) -> AuditEvent:
    assert response.status_code == status
    assert message in html.unescape(response.content.decode())
    assert signed_in_as(client) is None
    event = AuditEvent.objects.filter(action=Action.SIGN_IN_FAILED).latest("sequence")
    assert event.outcome == "refused" and event.extra["via"] == "oidc" and event.extra["reason"] == reason
    return event


def test_no_mapped_group_is_refused_with_a_clear_page_and_audited(client: Client, idp: OIDCProvider) -> None:
    response = sso_sign_in(client, idp, claims("drew", "everyone", "cc-something-else"))
    event = assert_refused(response, client, oidc.REFUSED_NO_ROLE.format(provider="Example IdP"), "no_role")
    assert event.actor_username == "drew" and event.extra["idp_groups"] == ["cc-something-else", "everyone"]
    assert not User.objects.filter(username="drew").exists()


def test_losing_every_mapped_group_refuses_the_next_sign_in(client: Client, idp: OIDCProvider) -> None:
    sso_sign_in(Client(), idp, claims("sam", "cc-leads"))
    response = sso_sign_in(client, idp, claims("sam", "everyone"))
    assert_refused(response, client, "none of your groups", "no_role")


def test_a_state_the_session_never_issued_is_refused(client: Client, idp: OIDCProvider) -> None:
    idp.user = claims("eve", "cc-admins")
    callback = back_from_provider(to_provider(client))
    forged = callback.split("&state=")[0] + "&" + urlencode({"state": "forged-state"})
    assert_refused(client.get(forged), client, oidc.REFUSED_STATE, "state_mismatch", status=400)
    assert idp.token_requests == 0  # refused before the code was ever exchanged


def test_a_callback_from_another_browser_is_refused(idp: OIDCProvider) -> None:
    idp.user = claims("eve", "cc-admins")
    callback = back_from_provider(to_provider(Client()))
    victim = Client()  # login CSRF: an attacker's code and state planted in someone else's browser
    assert_refused(victim.get(callback), victim, oidc.REFUSED_STATE, "state_mismatch", status=400)


def test_a_replayed_callback_is_refused(client: Client, idp: OIDCProvider) -> None:
    idp.user = claims("casey", "cc-leads")
    callback = back_from_provider(to_provider(client))
    assert client.get(callback).status_code == 302
    client.logout()
    assert_refused(client.get(callback), client, oidc.REFUSED_STATE, "state_mismatch", status=400)


@pytest.mark.parametrize("knob", ["wrong_nonce", "tamper_signature", "foreign_key", "wrong_audience"])
def test_an_id_token_that_does_not_verify_is_refused(client: Client, idp: OIDCProvider, knob: str) -> None:
    setattr(idp.knobs, knob, True)
    response = sso_sign_in(client, idp, claims("mallory", "cc-admins"))
    assert_refused(response, client, oidc.REFUSED_TOKEN, "token_invalid")
    assert not User.objects.filter(username="mallory").exists()


def test_userinfo_about_someone_else_is_refused(client: Client, idp: OIDCProvider) -> None:
    idp.knobs.userinfo_other_sub = True
    response = sso_sign_in(client, idp, claims("casey", "cc-admins"))
    assert_refused(response, client, oidc.REFUSED_TOKEN, "token_invalid")


def test_a_failing_token_endpoint_is_a_clear_page(client: Client, idp: OIDCProvider) -> None:
    idp.knobs.token_error = True
    response = sso_sign_in(client, idp, claims("casey", "cc-leads"))
    assert_refused(response, client, "Example IdP cannot be reached right now", "provider_failed", status=503)


def test_the_provider_saying_no_is_refused(client: Client, idp: OIDCProvider) -> None:
    to_provider(client)
    state = next(iter(client.session["oidc_states"]))
    response = client.get(CALLBACK + "?" + urlencode({"error": "access_denied", "state": state}))
    assert_refused(response, client, "did not sign you in (access_denied)", "provider_error")


def test_an_unreachable_provider_is_a_clear_page_not_an_error(client: Client, idp: OIDCProvider,
                                                             settings: Any) -> None:
    settings.PORTAL_OIDC_ISSUER = "http://127.0.0.1:9"  # discard port: nothing listens
    response = client.get(START)
    assert response.status_code == 503
    assert "cannot be reached" in response.content.decode()


# -- local accounts stay -----------------------------------------------------------------------


def test_local_password_sign_in_still_works_with_sso_on(client: Client, idp: OIDCProvider, lead: User) -> None:
    response = client.post(LOGIN, {"username": "lead", "password": PASSWORD})
    assert response.status_code == 302 and signed_in_as(client) == lead


def test_an_sso_identity_never_takes_over_a_local_account(client: Client, idp: OIDCProvider, lead: User) -> None:
    response = sso_sign_in(client, idp, claims("lead", "cc-admins"))
    assert_refused(response, client, "A local account named lead exists", "local_account")
    lead.refresh_from_db()
    assert role_names(lead) == {TEAM_LEAD} and lead.has_usable_password()


def test_disabling_an_sso_user_ends_their_session_and_refuses_the_next_sign_in(client: Client,
                                                                                 idp: OIDCProvider) -> None:
    sso_sign_in(client, idp, claims("casey", "cc-leads"))
    assert client.get("/").status_code == 200
    User.objects.filter(username="casey").update(is_active=False)
    assert client.get("/").status_code == 302  # the open session is no longer a signed-in user
    again = Client()
    assert_refused(sso_sign_in(again, idp, claims("casey", "cc-leads")), again, oidc.REFUSED_INACTIVE, "inactive")


def test_explicit_endpoints_work_without_discovery(client: Client, idp: OIDCProvider, settings: Any) -> None:
    settings.PORTAL_OIDC_ENDPOINTS = {"authorization": f"{idp.url}/authorize", "token": f"{idp.url}/token",
                                      "userinfo": f"{idp.url}/userinfo", "jwks": f"{idp.url}/jwks"}
    settings.PORTAL_OIDC_ISSUER = ""
    response = sso_sign_in(client, idp, claims("casey", "cc-leads"))
    assert response.status_code == 302 and signed_in_as(client).username == "casey"


def test_an_id_token_from_another_issuer_is_refused(client: Client, idp: OIDCProvider, settings: Any) -> None:
    settings.PORTAL_OIDC_ENDPOINTS = {"authorization": f"{idp.url}/authorize", "token": f"{idp.url}/token",
                                      "userinfo": f"{idp.url}/userinfo", "jwks": f"{idp.url}/jwks"}
    settings.PORTAL_OIDC_ISSUER = "https://idp.example.com"  # pinned; the local provider signs as itself
    response = sso_sign_in(client, idp, claims("casey", "cc-leads"))
    assert_refused(response, client, oidc.REFUSED_TOKEN, "token_invalid")
