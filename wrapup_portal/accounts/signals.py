"""Audit events for sign-in, sign-out, failed sign-in and lockout (connected in AccountsConfig.ready)."""

from __future__ import annotations

import time
from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest

from wrapup_portal.audit.models import Action
from wrapup_portal.audit.services import Actor, audit_record
from wrapup_portal.core.middleware import SIGNED_IN_AT


def _request(request: Any) -> HttpRequest | None:
    return request if isinstance(request, HttpRequest) else None


def on_signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if (session := getattr(request, "session", None)) is not None:  # the absolute lifetime starts now
        session[SIGNED_IN_AT] = int(time.time())
    # A single sign-on says so, with the roles its groups mapped to (wrapup_portal.accounts.oidc).
    extra = getattr(user, "sso_sign_in", None)
    audit_record(action=Action.SIGN_IN, actor=Actor.for_user(user), request=_request(request), outcome="ok",
                 extra=extra)


def on_signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # `user` is None when the session had already expired: nothing to sign out.
    if user is not None:
        audit_record(action=Action.SIGN_OUT, actor=Actor.for_user(user), request=_request(request), outcome="ok")


def on_sign_in_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Django has already masked the password in `credentials`; only the username is kept.
    username = str(credentials.get("username", ""))[:150]
    locked = bool(getattr(request, "axes_locked_out", False))
    audit_record(
        action=Action.SIGN_IN_FAILED, actor=Actor.for_user(None, username=username), request=_request(request),
        outcome="locked" if locked else "refused", target_kind="user", target_id=username,
    )


def on_locked_out(sender: Any, request: Any = None, username: str | None = None, ip_address: str | None = None, **kwargs: Any) -> None:
    audit_record(
        action=Action.LOCKOUT, actor=Actor.for_user(None, username=username or ""), request=_request(request),
        outcome="locked", target_kind="user", target_id=username or "",
        extra={"failures": getattr(request, "axes_failures_since_start", None)},
    )


def connect() -> None:
    user_logged_in.connect(on_signed_in, dispatch_uid="audit.sign_in")
    user_logged_out.connect(on_signed_out, dispatch_uid="audit.sign_out")
    user_login_failed.connect(on_sign_in_failed, dispatch_uid="audit.sign_in_failed")
    user_locked_out.connect(on_locked_out, dispatch_uid="audit.lockout")
