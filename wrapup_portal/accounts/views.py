"""Admin pages of accounts: which queues each team lead may act on, and unlocking sign-ins."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wrapup_portal.accounts.forms import GrantForm, UnlockForm
from wrapup_portal.accounts.roles import perm
from wrapup_portal.accounts.selectors import lockout_list, team_lead_list
from wrapup_portal.accounts.services import lockout_release, queue_grants_set

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
