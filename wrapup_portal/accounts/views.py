"""Sign-in (local and single sign-on), and the admin pages of accounts: which queues each team
lead may act on, and unlocking sign-ins."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wrapup_portal.accounts import oidc
from wrapup_portal.accounts.forms import GrantForm, SignInForm, UnlockForm
from wrapup_portal.accounts.roles import perm
from wrapup_portal.accounts.selectors import lockout_list, team_lead_list
from wrapup_portal.accounts.services import lockout_release, queue_grants_set

class SignInView(auth_views.LoginView):
    """The password form, and the "Sign in with <provider>" button when single sign-on is on."""

    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["sso_provider"] = oidc.provider_name() if settings.PORTAL_OIDC_ENABLED else ""
        return context


def _sso_refused(request: HttpRequest, refusal: oidc.SsoRefused) -> HttpResponse:
    oidc.sso_refusal_record(request=request, refusal=refusal)
    return render(request, "accounts/sso_refused.html", {"message": str(refusal)}, status=refusal.status)


@login_not_required
@require_GET
def sso_start(request: HttpRequest) -> HttpResponse:
    """To the identity provider (404 while single sign-on is off)."""
    if not settings.PORTAL_OIDC_ENABLED:
        raise Http404("Single sign-on is not configured.")
    try:
        return oidc.PortalRequestView.as_view()(request)
    except oidc.SsoRefused as refusal:
        return _sso_refused(request, refusal)


@login_not_required
@require_GET
def sso_callback(request: HttpRequest) -> HttpResponse:
    """Back from the identity provider: signed in with the mapped roles, or a page saying why not."""
    if not settings.PORTAL_OIDC_ENABLED:
        raise Http404("Single sign-on is not configured.")
    try:
        user = oidc.sso_callback_sign_in(request)
    except oidc.SsoRefused as refusal:
        return _sso_refused(request, refusal)
    auth.login(request, user, backend=oidc.BACKEND)  # audited by the user_logged_in signal
    return redirect(request.session.pop("oidc_login_next", None) or settings.LOGIN_REDIRECT_URL)


# Queue grants, and unlocking a sign-in: both are admins' say over who may use the portal.
manage_grants = permission_required(perm("manage_grants"), raise_exception=True)


@require_GET
@manage_grants
def grant_list(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/grants.html", {"leads": team_lead_list()})


@require_http_methods(["GET", "POST"])
@manage_grants
def grant_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    lead = get_object_or_404(team_lead_list(), pk=user_id)
    form = GrantForm(request.POST or None, initial={"groups": [g.code_group for g in lead.queue_grants.all()]})
    if request.method == "POST" and form.is_valid():
        try:
            changed = queue_grants_set(lead=lead, group_ids={g.pk for g in form.cleaned_data["groups"]},
                                       by=request.user, request=request)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Queues of {lead.username} saved." if changed else "Nothing changed.")
            return redirect("accounts:grants")
    return render(request, "accounts/grant.html", {"lead": lead, "form": form})


@require_GET
@manage_grants
def lockouts(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/lockouts.html", {
        "lockouts": lockout_list(), "failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff": settings.AXES_COOLOFF_TIME,
    })


@require_POST
@manage_grants
def unlock(request: HttpRequest) -> HttpResponse:
    form = UnlockForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a lockout from the list to unlock.")
        return redirect("accounts:lockouts")
    username, ip_address = form.cleaned_data["username"], form.cleaned_data["ip_address"]
    try:
        lockout_release(username=username, ip_address=ip_address, by=request.user, request=request)
    except ValidationError as exc:
        messages.info(request, exc.messages[0])
    else:
        messages.success(request, f"{username} may sign in again from {ip_address}.")
    return redirect("accounts:lockouts")
