"""Admin pages of the catalog: code groups, sync runs with live progress, drift."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from wrapup_portal.accounts.roles import perm
from wrapup_portal.audit.filters import remembered_filter
from wrapup_portal.catalog import selectors
from wrapup_portal.catalog.forms import DriftFilterForm, GroupSearchForm, SyncedToggleForm
from wrapup_portal.catalog.models import CodeGroup, SyncRun
from wrapup_portal.catalog.services import SYNC_ALREADY_RUNNING, code_group_set_synced, sync_run_request
from wrapup_portal.core.selectors import cluster_check

manage_catalog = permission_required(perm("manage_catalog"), raise_exception=True)
FILTER_SESSION_KEY = "catalog:groups:filter"


@require_GET
@manage_catalog
def group_list(request: HttpRequest) -> HttpResponse:
    if (restored := remembered_filter(request, FILTER_SESSION_KEY)) is not None:
        return restored
    form = GroupSearchForm(request.GET)
    search, include_removed, groups = "", False, CodeGroup.objects.none()
    # An invalid search (too long) is an error on the form, never "every queue".
    if form.is_valid():
        search, include_removed = form.cleaned_data["q"], form.cleaned_data["removed"]
        remembered = request.GET.copy()
        remembered.pop("page", None)
        request.session[FILTER_SESSION_KEY] = remembered.urlencode()
        groups = selectors.code_group_list(search=search, include_removed=include_removed)
    page = Paginator(groups, 50).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "search": search, "include_removed": include_removed,
               "latest": selectors.sync_run_latest(), "active": selectors.sync_run_active(),
               "none_selected": not CodeGroup.objects.filter(synced=True).exists()}
    return render(request, "catalog/groups.html", context)


@require_POST
@manage_catalog
def toggle_synced(request: HttpRequest) -> HttpResponse:
    form = SyncedToggleForm(request.POST)
    if form.is_valid():
        changed = code_group_set_synced(by=request.user, queue_ids=set(form.cleaned_data["queue_ids"]),
                                        synced=form.cleaned_data["synced"], request=request)
        messages.success(request, f"{changed} queue(s) updated.")
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("catalog:groups")


@require_GET
@manage_catalog
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    group = get_object_or_404(CodeGroup, pk=pk)
    context = {"group": group, "codes": selectors.code_group_codes(group=group),
               "last_synced": selectors.code_group_last_synced(group=group)}
    return render(request, "catalog/group.html", context)


@require_POST
@manage_catalog
def sync_now(request: HttpRequest) -> HttpResponse:
    sync = sync_run_request(trigger=SyncRun.Trigger.MANUAL, by=request.user, request=request, enqueue=True)
    if not sync.created:
        messages.info(request, SYNC_ALREADY_RUNNING)
    return redirect("catalog:run", pk=sync.run.pk)


@require_GET
@manage_catalog
def run_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.sync_run_list(), 25).get_page(request.GET.get("page"))
    return render(request, "catalog/runs.html", {"page": page})


@require_GET
@manage_catalog
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(SyncRun.objects.select_related("started_by"), pk=pk)
    if request.htmx and run.status in {SyncRun.Status.SUCCEEDED, SyncRun.Status.FAILED}:
        # The poll saw the run finish: htmx reloads the page (HX-Refresh), which shows the
        # changes table outside the polled fragment, with no inline script in a template.
        return HttpResponseClientRefresh()
    template = "catalog/run.html#progress" if request.htmx else "catalog/run.html"
    changes = Paginator(selectors.sync_change_list(run=run), 100).get_page(request.GET.get("page"))
    # A queued run normally starts within a second or two: only a stale heartbeat is worth a warning.
    cluster = cluster_check() if run.status == SyncRun.Status.QUEUED else None
    return render(request, template, {"run": run, "changes": changes, "cluster": cluster})


@require_GET
@manage_catalog
def drift(request: HttpRequest) -> HttpResponse:
    form = DriftFilterForm(request.GET)
    form.is_valid()
    run = selectors.drift_run()
    changes = selectors.sync_change_list(run=run, kind=form.cleaned_data.get("kind", "")) if run else []
    page = Paginator(changes, 100).get_page(request.GET.get("page"))
    return render(request, "catalog/drift.html", {"form": form, "run": run, "page": page,
                                                  "last_success": selectors.sync_run_last_success(),
                                                  "first_sync": selectors.sync_run_first()})

