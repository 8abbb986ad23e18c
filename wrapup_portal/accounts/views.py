"""Admin pages of accounts: which queues each team lead may act on."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from wrapup_portal.accounts.forms import GrantForm
from wrapup_portal.accounts.roles import perm
from wrapup_portal.accounts.selectors import team_lead_list
from wrapup_portal.accounts.services import queue_grants_set

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
