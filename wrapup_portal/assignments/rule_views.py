"""Rule pages (admins): the ordered list with today's outcomes, form, delete, enable, move, dry run."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations.genesys import GenesysError
from wrapup_portal.accounts.roles import perm
from wrapup_portal.assignments import rule_services as services
from wrapup_portal.assignments.models import Rule
from wrapup_portal.assignments.rule_forms import RuleForm
from wrapup_portal.assignments.rule_selectors import DRY_RUN_SHOWN, rule_dry_run, rule_list
from wrapup_portal.audit.services import Actor
from wrapup_portal.core.genesys import get_genesys_client

manage_rules = permission_required(perm("manage_rules"), raise_exception=True)

SAVED = "Rule “{name}” saved."
DELETED = "Rule “{name}” deleted."
GENESYS_DOWN = "Genesys could not answer the dry run: {error}. Nothing was changed; try again in a moment."


def _actor(request: HttpRequest) -> Actor:
    return Actor.for_user(request.user)


@require_GET
@manage_rules
def rule_index(request: HttpRequest) -> HttpResponse:
    return render(request, "assignments/rules.html", {"rules": rule_list()})


def _form_page(request: HttpRequest, rule: Rule | None) -> HttpResponse:
    form = RuleForm(request.POST) if request.method == "POST" else (RuleForm.for_rule(rule) if rule else RuleForm())
    if request.method == "POST" and form.is_valid():
        try:
            if rule is None:
                rule = services.rule_create(data=form.rule_data(), actor=_actor(request), request=request)
            else:
                rule = services.rule_update(rule=rule, data=form.rule_data(), actor=_actor(request), request=request)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, SAVED.format(name=rule.name))
            return redirect("rules:list")
    return render(request, "assignments/rule_form.html", {"form": form, "rule": rule})


@require_http_methods(["GET", "POST"])
@manage_rules
def rule_new(request: HttpRequest) -> HttpResponse:
    return _form_page(request, None)


@require_http_methods(["GET", "POST"])
@manage_rules
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _form_page(request, get_object_or_404(Rule.objects.select_related("queue", "code"), pk=pk))


@require_http_methods(["GET", "POST"])
@manage_rules
def rule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule.objects.select_related("queue", "code"), pk=pk)
    if request.method == "POST":
        services.rule_delete(rule=rule, actor=_actor(request), request=request)
        messages.success(request, DELETED.format(name=rule.name))
        return redirect("rules:list")
    return render(request, "assignments/rule_delete.html", {"rule": rule})


@require_POST
@manage_rules
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=pk)
    services.rule_set_enabled(rule=rule, enabled=request.POST.get("enabled") == "1", actor=_actor(request), request=request)
    return redirect("rules:list")


@require_POST
@manage_rules
def rule_move(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_object_or_404(Rule, pk=pk)
    direction = request.POST.get("direction", "")
    if direction in services.MOVE_DIRECTIONS:
        services.rule_move(rule=rule, direction=direction, actor=_actor(request), request=request)
    return redirect("rules:list")


@require_GET
@manage_rules
def rule_dry_run_page(request: HttpRequest) -> HttpResponse:
    """Runs only when asked (``?run=1``): one analytics query over the enabled rules' queues."""
    result, problem = None, ""
    if request.GET.get("run"):
        try:
            result = rule_dry_run(client=get_genesys_client())
        except GenesysError as error:
            problem = GENESYS_DOWN.format(error=error)
    return render(request, "assignments/rule_dry_run.html", {"result": result, "problem": problem, "shown": DRY_RUN_SHOWN})
