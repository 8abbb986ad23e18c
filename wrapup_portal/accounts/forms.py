"""Sign-in, and the queues an admin grants to a team lead."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from wrapup_portal.catalog.models import CodeGroup

INVALID_LOGIN = "That username and password do not match. Both are case-sensitive."
INACTIVE_ACCOUNT = "This account is disabled. Ask an admin to enable it."


class SignInForm(AuthenticationForm):
    """The sign-in form, with messages that tell a person what to do next."""

    error_messages = {"invalid_login": INVALID_LOGIN, "inactive": INACTIVE_ACCOUNT}


class GrantForm(forms.Form):
    """The code groups (queues) a team lead may act on; `queue_grants_set` checks the rules."""

    groups = forms.ModelMultipleChoiceField(
        queryset=CodeGroup.objects.filter(removed_at__isnull=True).order_by("name"),
        required=False, widget=forms.CheckboxSelectMultiple,
    )


class UnlockForm(forms.Form):
    """One locked-out pair, as listed on the lockouts page."""

    username = forms.CharField(max_length=255)
    ip_address = forms.GenericIPAddressField()
