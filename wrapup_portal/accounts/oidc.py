"""Single sign-on with OpenID Connect (authorization code flow, PKCE, nonce), off unless configured.

mozilla-django-oidc does the protocol (state and nonce in the session, the token request, the
JWKS look-up); this module adds what the portal needs around it:

* the provider's endpoints, explicit or from its discovery document (fetched on first use);
* an id_token check that also pins issuer, audience and algorithm (the library checks only the
  signature and the nonce);
* the identity provider's groups mapped to the portal's roles on *every* sign-in, so a change
  at the provider takes effect at the next one; no mapped group means no sign-in;
* local accounts with a password are never taken over by an SSO identity of the same name:
  they are the break-glass way in and stay password-only;
* every refusal audited with its reason, as a failed local sign-in is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, User
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import absolutify
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from wrapup_portal.accounts.roles import ADMIN, COMPLIANCE, ROLES, TEAM_LEAD
from wrapup_portal.audit.models import Action
from wrapup_portal.audit.services import Actor, audit_record

logger = logging.getLogger(__name__)

BACKEND = "wrapup_portal.accounts.oidc.PortalOIDCBackend"
ROLE_BY_KEY = {"team_lead": TEAM_LEAD, "admin": ADMIN, "compliance": COMPLIANCE}

# Messages shown on the refusal page (tests import them).
REFUSED_NO_ROLE = ("You signed in at {provider}, but none of your groups there gives a role in this portal. "
                   "Ask your administrator to add you to one of the portal's groups.")
REFUSED_STATE = "This sign-in link has expired or was already used. Start again from the sign-in page."
REFUSED_TOKEN = "The identity provider's answer could not be verified, so you were not signed in."
REFUSED_PROVIDER = "{provider} did not sign you in ({error}). Start again from the sign-in page."
REFUSED_UNAVAILABLE = "{provider} cannot be reached right now. Try again shortly, or sign in with a local account."
REFUSED_LOCAL_ACCOUNT = ("A local account named {username} exists in the portal; single sign-on never takes over a "
                         "local account. Sign in with its password, or ask an admin to rename one of them.")
REFUSED_INACTIVE = "Your portal account is disabled. Ask an admin to enable it."
REFUSED_NO_USERNAME = "{provider} sent no {claim} claim, so the portal cannot tell who you are."


class SsoRefused(Exception):
    """A single sign-on attempt that ends without a session; ``reason`` is a short code for the audit log."""

    def __init__(self, message: str, *, reason: str, status: int = 403, username: str = "",
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.reason, self.status, self.username, self.extra = reason, status, username, extra or {}


@dataclass(frozen=True)
class Endpoints:
    issuer: str
    authorization: str
    token: str
    userinfo: str
    jwks: str


_discovered: dict[str, dict[str, Any]] = {}
_discovery_lock = threading.Lock()


def provider_name() -> str:
    return settings.PORTAL_OIDC_PROVIDER_NAME


def oidc_endpoints() -> Endpoints:
    """The provider's endpoints: explicit settings first, then the issuer's discovery document.

    Raises ``SsoRefused`` (503) when the discovery document cannot be fetched; it is fetched once
    per process and kept, so the sign-in page itself never waits on the provider.
    """
    explicit, issuer = settings.PORTAL_OIDC_ENDPOINTS, settings.PORTAL_OIDC_ISSUER
    found: dict[str, Any] = {}
    if issuer and not all(explicit.values()):
        with _discovery_lock:
            if issuer not in _discovered:
                try:
                    response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=settings.OIDC_TIMEOUT)
                    response.raise_for_status()
                    document = response.json()
                    if document.get("issuer", "").rstrip("/") != issuer:
                        raise ValueError("the discovery document names another issuer")
                except (requests.RequestException, ValueError) as exc:
                    logger.warning("OIDC discovery at %s failed: %s", issuer, type(exc).__name__)
                    raise SsoRefused(REFUSED_UNAVAILABLE.format(provider=provider_name()), reason="unavailable",
                                     status=503) from None
                _discovered[issuer] = document
            found = _discovered[issuer]
    return Endpoints(
        issuer=issuer,
        authorization=explicit["authorization"] or found.get("authorization_endpoint", ""),
        token=explicit["token"] or found.get("token_endpoint", ""),
        userinfo=explicit["userinfo"] or found.get("userinfo_endpoint", ""),
        jwks=explicit["jwks"] or found.get("jwks_uri", ""),
    )


def forget_discovery() -> None:
    """Drop the cached discovery documents (tests, a provider that moved)."""
    with _discovery_lock:
        _discovered.clear()


def roles_for_groups(groups: Iterable[str]) -> list[str]:
    """The portal roles the identity provider's ``groups`` map to, in the order of ``ROLES``."""
    held = set(groups)
    mapped = {ROLE_BY_KEY[key] for key, names in settings.PORTAL_OIDC_ROLE_GROUPS.items() if held & set(names)}
    return [role for role in ROLES if role in mapped]


def _claim_groups(claims: dict[str, Any]) -> list[str]:
    value = claims.get(settings.PORTAL_OIDC_GROUPS_CLAIM) or []
    if isinstance(value, str):
        value = [value]
    return sorted(str(group) for group in value if isinstance(group, (str, int)))


class PortalRequestView(OIDCAuthenticationRequestView):
    """The redirect to the provider, with the authorization endpoint resolved by ``oidc_endpoints``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The library reads its endpoint from settings here; the portal resolves it per request.
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)
        self.OIDC_OP_AUTH_ENDPOINT = oidc_endpoints().authorization
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID


class PortalOIDCBackend(OIDCAuthenticationBackend):
    """Signs in only from the portal's callback (which passes the session's nonce)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Django builds a backend for every request of a signed-in user (get_user): no provider
        # look-up here, only in ``authenticate``.
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        self.UserModel = User

    def authenticate(self, request: HttpRequest | None, nonce: str | None = None, code_verifier: str | None = None,
                     **kwargs: Any) -> User | None:
        """The user for the callback's code, or ``SsoRefused``; None for any other caller (a password form)."""
        if request is None or not nonce or not settings.PORTAL_OIDC_ENABLED:
            return None
        self.endpoints = oidc_endpoints()
        self.OIDC_OP_TOKEN_ENDPOINT = self.endpoints.token
        self.OIDC_OP_USER_ENDPOINT = self.endpoints.userinfo
        self.OIDC_OP_JWKS_ENDPOINT = self.endpoints.jwks
        self.request = request
        token_payload = {
            "client_id": self.OIDC_RP_CLIENT_ID, "client_secret": self.OIDC_RP_CLIENT_SECRET,
            "grant_type": "authorization_code", "code": request.GET.get("code", ""),
            "redirect_uri": absolutify(request, reverse(settings.OIDC_AUTHENTICATION_CALLBACK_URL)),
        }
        if code_verifier is not None:
            token_payload["code_verifier"] = code_verifier
        try:
            token_info = self.get_token(token_payload)
            id_claims = self.verify_token(token_info.get("id_token") or "", nonce=nonce)
            userinfo = self.get_userinfo(token_info.get("access_token"), token_info.get("id_token"), id_claims)
        except SuspiciousOperation as exc:
            raise SsoRefused(REFUSED_TOKEN, reason="token_invalid", extra={"detail": str(exc)[:200]}) from None
        except (requests.RequestException, ValueError) as exc:
            # Only the kind of failure: the library's message quotes the provider's whole answer.
            logger.warning("OIDC token exchange failed: %s", type(exc).__name__)
            raise SsoRefused(REFUSED_UNAVAILABLE.format(provider=provider_name()), reason="provider_failed",
                             status=503) from None
        if not isinstance(userinfo, dict) or userinfo.get("sub") != id_claims.get("sub"):
            raise SsoRefused(REFUSED_TOKEN, reason="token_invalid", extra={"detail": "userinfo sub differs"})
        return sso_user_sign_in(claims={**id_claims, **userinfo})

    def get_user(self, user_id: Any) -> User | None:
        # The library's version returns disabled users too; Django's refuses them, so disabling
        # an SSO user in the portal ends their open sessions as it does for local users.
        return ModelBackend.get_user(self, user_id)

    def _verify_jws(self, payload: str, key: Any) -> dict[str, Any]:
        """Signature, algorithm, expiry, issuer and audience; ``SuspiciousOperation`` for any failure."""
        try:
            return jwt.decode(
                payload, key, algorithms=[self.OIDC_RP_SIGN_ALGO], audience=self.OIDC_RP_CLIENT_ID,
                issuer=self.endpoints.issuer or None, options={"require": ["exp", "iat", "sub"]}, leeway=60,
            )
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"id_token refused: {type(exc).__name__}") from None

    def retrieve_matching_jwk(self, token: str) -> Any:
        try:
            return super().retrieve_matching_jwk(token)
        except (KeyError, jwt.PyJWTError) as exc:
            raise SuspiciousOperation(f"no usable signing key: {type(exc).__name__}") from None


@transaction.atomic
def sso_user_sign_in(*, claims: dict[str, Any]) -> User:
    """The portal user for verified ``claims``, with its roles set from the provider's groups.

    Creates the user on first sign-in (no usable password: SSO only). Every sign-in makes the
    user's role groups exactly the mapped ones (other groups are left alone) and ``is_staff``
    follow the admin role, so removing someone from a group at the provider takes their role
    away at their next sign-in. Raises ``SsoRefused`` for no username, no mapped role, a local
    account of the same name, or a disabled account.
    """
    claim = settings.PORTAL_OIDC_USERNAME_CLAIM
    username = claims.get(claim)
    if not isinstance(username, str) or not 0 < len(username) <= 150:
        raise SsoRefused(REFUSED_NO_USERNAME.format(provider=provider_name(), claim=claim), reason="no_username")
    groups = _claim_groups(claims)
    roles = roles_for_groups(groups)
    if not roles:
        raise SsoRefused(REFUSED_NO_ROLE.format(provider=provider_name()), reason="no_role", username=username,
                         extra={"idp_groups": groups})
    user = User.objects.select_for_update().filter(username=username).first()
    if user is not None and user.has_usable_password():
        raise SsoRefused(REFUSED_LOCAL_ACCOUNT.format(username=username), reason="local_account", username=username)
    if user is None:
        user = User(username=username)
        user.set_unusable_password()
    elif not user.is_active:
        raise SsoRefused(REFUSED_INACTIVE, reason="inactive", username=username)
    user.email = str(claims.get("email") or user.email)[:254]
    user.first_name = str(claims.get("given_name") or user.first_name)[:150]
    user.last_name = str(claims.get("family_name") or user.last_name)[:150]
    user.is_staff = ADMIN in roles  # only admins use Django's admin site, as with the demo users
    user.save()
    before = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    user.groups.remove(*Group.objects.filter(name__in=set(ROLES) - set(roles)))
    user.groups.add(*Group.objects.filter(name__in=roles))
    user.sso_sign_in = {"via": "oidc", "roles": roles, "idp_groups": groups,  # read by the sign-in audit
                        "roles_before": sorted(before), "roles_changed": before != set(roles)}
    return user


def sso_callback_sign_in(request: HttpRequest) -> User:
    """Check the provider's answer at the callback against the session's state; the user, or ``SsoRefused``.

    The state is used once: it leaves the session before the code is exchanged, so a replayed
    callback finds nothing.
    """
    states = request.session.get("oidc_states") or {}
    state, code, error = request.GET.get("state", ""), request.GET.get("code", ""), request.GET.get("error", "")
    entry = states.pop(state, None) if state else None
    request.session["oidc_states"] = states
    if error:
        raise SsoRefused(REFUSED_PROVIDER.format(provider=provider_name(), error=error[:100]), reason="provider_error",
                         extra={"error": error[:100]})
    if entry is None or not code:
        raise SsoRefused(REFUSED_STATE, reason="state_mismatch", status=400)
    user = PortalOIDCBackend().authenticate(request, nonce=entry.get("nonce"), code_verifier=entry.get("code_verifier"))
    if user is None:  # only when SSO was switched off meanwhile
        raise SsoRefused(REFUSED_STATE, reason="state_mismatch", status=400)
    return user


def sso_refusal_record(*, request: HttpRequest, refusal: SsoRefused) -> None:
    """The audit event of a refused single sign-on, as a failed local sign-in is recorded."""
    audit_record(
        action=Action.SIGN_IN_FAILED, actor=Actor.for_user(None, username=refusal.username), request=request,
        outcome="refused", reason=str(refusal)[:500], target_kind="user", target_id=refusal.username,
        extra={"via": "oidc", "reason": refusal.reason, **refusal.extra},
    )
