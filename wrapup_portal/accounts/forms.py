from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm

INVALID_LOGIN = "That username and password do not match. Both are case-sensitive."
INACTIVE_ACCOUNT = "This account is disabled. Ask an admin to enable it."


class SignInForm(AuthenticationForm):
    """The sign-in form, with messages that tell a person what to do next."""

    error_messages = {"invalid_login": INVALID_LOGIN, "inactive": INACTIVE_ACCOUNT}
