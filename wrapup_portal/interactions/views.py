"""Interactions pages: search, CSV export, conversation detail, live ACW board.

They show the assignment forms: one per leg on the detail page (posted back here, so a
refusal is shown on the same page) and one for the legs selected on the search page (posted
to the assignments app's preview).
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET, require_POST

from integrations.genesys import GenesysError, NotFoundError
from wrapup_portal.accounts.roles import perm
from wrapup_portal.accounts.selectors import queue_ids_for
from wrapup_portal.assignments.forms import MAX_LEGS, AssignForm, BulkForm, assign_forms
from wrapup_portal.assignments.models import Source
from wrapup_portal.assignments.selectors import selection_review
from wrapup_portal.assignments.services import Requester, assignment_request
from wrapup_portal.audit.filters import remembered_filter
from wrapup_portal.interactions import selectors
from wrapup_portal.interactions.export import search_csv_stream
from wrapup_portal.interactions.forms import UUID_RE, SearchForm
from wrapup_portal.interactions.selectors import LegRow

logger = logging.getLogger(__name__)
view_interactions = permission_required(perm("view_interactions"), raise_exception=True)
assign_wrapup = permission_required(perm("assign_wrapup"), raise_exception=True)
ASSIGN_QUEUED = "Assignment #{pk} requested: {code} on the leg of conversation {cid}."
ASSIGN_GENESYS_DOWN = "Genesys could not be asked about this leg ({error}). Nothing was queued; try again in a moment."
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
                results = selectors.interaction_search_page(search=scoped, page_number=form.cleaned_data.get("page") or 1)
                context["results"], context["rows"] = results, _row_views(request, results.rows)
                if request.user.has_perm(perm("assign_wrapup")):  # offering the codes of the queues on this page
                    context["bulk_form"] = BulkForm(queue_ids={row.queue_id for row in results.rows}, auto_id="bulk_%s")
            except GenesysError as error:
                logger.warning("Interaction search failed: %s", error)
                context["problem"] = genesys_problem(error)
    return render(request, "interactions/search.html", context)


STATE_LABELS = {"acw": "In ACW", "connected": "Open", "final": "Final"}
ROW_HTML = (
    '<tr><td><input type="checkbox" name="leg" value="{}/{}" form="bulk" aria-label="Select the leg of {} at {}"></td>'
    '<td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td><a href="{}" title="Only this agent">{}</a></td>'
    '<td>{}</td><td>{}</td><td><span class="badge badge-{}">{}</span></td></tr>'
)


def _row_views(request: HttpRequest, rows: tuple[LegRow, ...]) -> list[SafeString]:
    """The result rows as HTML made in Python: at 100 rows the table is the page's main cost,
    and the template engine spends several times longer on the same markup."""
    detail_prefix = reverse("interactions:detail", args=["-"])[:-2]
    query = request.GET.copy()
    query.pop("page", None)
    html = []
    for row in rows:
        query["agent"] = row.user_id
        when = timezone.localtime(row.leg_start or row.conversation_start).strftime("%Y-%m-%d %H:%M:%S")
        duration = f"{row.duration_seconds} s" if row.duration_seconds is not None else mark_safe('<span class="muted">ongoing</span>')
        html.append(format_html(ROW_HTML, row.conversation_id, row.participant_id, row.agent_name, when,
                                f"{detail_prefix}{row.conversation_id}/", when, duration, row.queue_name,
                                f"?{query.urlencode()}", row.agent_name, row.media_type, _code_cell(row),
                                row.state, STATE_LABELS.get(row.state, row.state)))  # fmt: skip
    return html


def _code_cell(row: LegRow) -> SafeString:
    if row.wrapup_code:
        retired = mark_safe(' <span class="muted">(retired)</span>') if row.code_retired else ""
        return format_html('<span class="{}" title="{}">{}</span>{}', "status-skipped" if row.is_system else "",
                           row.wrapup_code, row.code_name, retired)  # fmt: skip
    return mark_safe('<span class="status-down">No code</span>') if row.state != "connected" else mark_safe("")


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
    return detail_page(request, conversation_id)


def detail_page(request: HttpRequest, conversation_id: str, *, failed: tuple[str, AssignForm] | None = None) -> HttpResponse:
    """The conversation's page; ``failed`` is a refused assign form (participant id, bound form) to show again."""
    if not UUID_RE.match(conversation_id):
        raise Http404("No such conversation.")
    allowed = queue_ids_for(user=request.user)
    try:
        found = selectors.interaction_detail(conversation_id=conversation_id.lower(), allowed=allowed)
    except NotFoundError:
        found = None
    except GenesysError as error:
        logger.warning("Conversation detail failed: %s", error)
        return render(request, "interactions/detail.html", {"problem": genesys_problem(error),
                                                             "conversation_id": conversation_id}, status=502)  # fmt: skip
    if found is None:
        raise Http404("No such conversation, or none on your queues.")
    forms = assign_forms(legs=[leg for leg, _ in found.legs], user=request.user, allowed=allowed, failed=failed)
    # A refused form whose leg has no form here (not an agent leg, another queue): its reason goes on top.
    stray = failed[1] if failed is not None and all(f is not failed[1] for f in forms) else None
    context = {"detail": found, "conversation_id": conversation_id, "assign_forms": forms, "assign_refused": stray}
    return render(request, "interactions/detail.html", context)


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


# --- assigning one leg, from this page ----------------------------------------------------------
@require_POST
@assign_wrapup
def assign(request: HttpRequest, conversation_id: str, participant_id: str) -> HttpResponse:
    """The conversation page's own assign form; a refusal is shown again on the page, nothing created."""
    if not (UUID_RE.match(conversation_id) and UUID_RE.match(participant_id)):
        raise Http404("No such leg.")
    form = AssignForm(request.POST, auto_id=f"id_{participant_id}_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            assignment = assignment_request(
                conversation_id=conversation_id.lower(), participant_id=participant_id.lower(), code=data["code"].code_id,
                requester=Requester.person(request.user), notes=data["notes"], reason=data["reason"], request=request,
                correction_needs_reason=True,
            )  # fmt: skip
        except ValidationError as error:
            form.add_error(None, error)
        except GenesysError as error:
            logger.warning("Assign: Genesys did not answer: %s", error)
            form.add_error(None, ASSIGN_GENESYS_DOWN.format(error=error))
        else:
            messages.success(request, ASSIGN_QUEUED.format(pk=assignment.pk, code=assignment.code_name, cid=conversation_id))
            return redirect("assignments:detail", pk=assignment.pk)
    # Shown again on the conversation's page, this leg's form with what was typed and why it was refused.
    return detail_page(request, conversation_id, failed=(participant_id.lower(), form))


# --- assigning every leg a search finds (all its pages) -------------------------------------------
ALL_TOO_MANY = "This search finds more than {max} legs; narrow it (a range, a queue, a wrap-up state) to assign them at once."
ALL_NONE = "This search finds no legs to assign."


@require_POST
@view_interactions
@assign_wrapup
def bulk_all(request: HttpRequest) -> HttpResponse:
    """The bulk form's "every leg this search finds": the search in the query string, run over all of
    its pages, becomes the selection of an ordinary bulk preview (confirmed by the assignments app)."""
    allowed = queue_ids_for(user=request.user)
    search_form = SearchForm(request.GET, allowed=allowed)
    if not search_form.is_valid() or (scoped := search_form.search().scoped(allowed)) is None:
        messages.error(request, ALL_NONE)
        return redirect(f"{reverse('interactions:search')}?{request.GET.urlencode()}")
    try:  # None at the end: the pages ran out before the search did, so it finds too many
        rows = list(selectors.interaction_search_all(search=scoped, max_pages=MAX_LEGS // 100 + 1))
    except GenesysError as error:
        messages.error(request, genesys_problem(error))
        return redirect(f"{reverse('interactions:search')}?{request.GET.urlencode()}")
    legs = [f"{row.conversation_id}/{row.participant_id}" for row in rows if row is not None]
    if None in rows or len(legs) > MAX_LEGS or not legs:
        messages.error(request, ALL_TOO_MANY.format(max=MAX_LEGS) if legs else ALL_NONE)
        return redirect(f"{reverse('interactions:search')}?{request.GET.urlencode()}")
    data = request.POST.copy()
    data.setlist("leg", legs)
    form = BulkForm(data)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return redirect(f"{reverse('interactions:search')}?{request.GET.urlencode()}")
    try:
        review = selection_review(legs=form.cleaned_data["leg"], code=form.cleaned_data["code"],
                                  notes=form.cleaned_data["notes"], requester=Requester.person(request.user))  # fmt: skip
    except GenesysError as error:
        messages.error(request, genesys_problem(error))
        return redirect(f"{reverse('interactions:search')}?{request.GET.urlencode()}")
    context = {"review": review, "form": form, "kind": Source.BULK, "reason": form.cleaned_data["reason"]}
    return render(request, "assignments/review.html", context)
