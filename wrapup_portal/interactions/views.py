"""Interactions pages: search, CSV export, conversation detail, live ACW board (read-only)."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from integrations.genesys import GenesysError, NotFoundError
from wrapup_portal.accounts.roles import perm
from wrapup_portal.accounts.selectors import queue_ids_for
from wrapup_portal.audit.filters import remembered_filter
from wrapup_portal.interactions import selectors
from wrapup_portal.interactions.export import search_csv_stream
from wrapup_portal.interactions.forms import UUID_RE, SearchForm

logger = logging.getLogger(__name__)
view_interactions = permission_required(perm("view_interactions"), raise_exception=True)
FILTER_SESSION_KEY = "interactions:search:filter"
NO_QUEUES = "No queues are granted to you yet: ask an admin to grant the queues you lead."


def genesys_problem(error: GenesysError) -> str:
    """What to tell a person when Genesys did not answer as hoped; never a stack trace."""
    status = getattr(error, "status", None)
    if status == 429:
        return "Genesys is rate-limiting the portal right now. Wait a moment and retry."
    if status in (401, 403):
        return f"Genesys refused the portal's request ({error}). An admin should check the OAuth client's permissions."
    return f"Genesys could not answer this search: {error}. Your filters are kept; retry in a moment."


@require_GET
@view_interactions
def search(request: HttpRequest) -> HttpResponse:
    if (restored := remembered_filter(request, FILTER_SESSION_KEY)) is not None:
        return restored
    allowed = queue_ids_for(user=request.user)
    form = SearchForm(request.GET or None, allowed=allowed)
    context: dict[str, object] = {"form": form, "no_queues": allowed is not None and not allowed, "NO_QUEUES": NO_QUEUES}
    if form.is_bound and form.is_valid():
        remembered = request.GET.copy()
        remembered.pop("page", None)
        request.session[FILTER_SESSION_KEY] = remembered.urlencode()
        if form.cleaned_data["conversation"]:  # an exact id jumps straight to the conversation
            return redirect("interactions:detail", conversation_id=form.cleaned_data["conversation"])
        scoped = form.search().scoped(allowed)
        if scoped is not None:
            try:
                context["results"] = selectors.interaction_search_page(
                    search=scoped, page_number=form.cleaned_data.get("page") or 1)
            except GenesysError as error:
                logger.warning("Interaction search failed: %s", error)
                context["problem"] = genesys_problem(error)
    return render(request, "interactions/search.html", context)


@require_GET
@view_interactions
def export(request: HttpRequest) -> HttpResponse:
    allowed = queue_ids_for(user=request.user)
    form = SearchForm(request.GET, allowed=allowed)
    if not form.is_valid():
        return render(request, "interactions/search.html", {"form": form}, status=400)
    scoped = form.search().scoped(allowed)
    if scoped is not None:
        try:  # the first page before the download starts, so a failure is a page, not a broken file
            selectors.interaction_search_page(search=scoped)
        except GenesysError as error:
            return render(request, "interactions/search.html", {"form": form, "problem": genesys_problem(error)})
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(search_csv_stream(scoped), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="interactions-{stamp}.csv"'
    return response


@require_GET
@view_interactions
def detail(request: HttpRequest, conversation_id: str) -> HttpResponse:
    if not UUID_RE.match(conversation_id):
        raise Http404("No such conversation.")
    try:
        found = selectors.interaction_detail(conversation_id=conversation_id.lower(),
                                             allowed=queue_ids_for(user=request.user))  # fmt: skip
    except NotFoundError:
        found = None
    except GenesysError as error:
        logger.warning("Conversation detail failed: %s", error)
        return render(request, "interactions/detail.html", {"problem": genesys_problem(error),
                                                             "conversation_id": conversation_id}, status=502)  # fmt: skip
    if found is None:
        raise Http404("No such conversation, or none on your queues.")
    return render(request, "interactions/detail.html", {"detail": found, "conversation_id": conversation_id})


@require_GET
@view_interactions
def board(request: HttpRequest) -> HttpResponse:
    allowed = queue_ids_for(user=request.user)
    context: dict[str, object] = {"no_queues": allowed is not None and not allowed, "NO_QUEUES": NO_QUEUES}
    try:
        context["board"] = selectors.acw_board(allowed=allowed)
    except GenesysError as error:
        logger.warning("Live board refresh failed: %s", error)
        context["problem"] = genesys_problem(error)
    template = "interactions/board.html#board" if request.htmx else "interactions/board.html"
    return render(request, template, context)
