"""Assignment pages: assign one leg, bulk and CSV (preview, then confirm), a job's progress, lists.

Nothing is queued without a confirm, and a confirm re-runs its preview: a page left open while
legs moved on cannot queue what is no longer what it showed. A team lead reaches only
assignments and jobs on their granted queues (404 otherwise).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations.genesys import GenesysError
from wrapup_portal.accounts.roles import perm
from wrapup_portal.accounts.selectors import queue_ids_for
from wrapup_portal.assignments import selectors
from wrapup_portal.assignments.csv_rows import MAX_BYTES, MAX_ROWS
from wrapup_portal.assignments.forms import BulkForm, StateFilterForm, UploadConfirmForm, UploadForm
from wrapup_portal.assignments.models import Assignment, BulkJob, Source
from wrapup_portal.assignments.selectors import Review
from wrapup_portal.assignments.services import (
    Requester,
    assignment_cancel,
    assignment_retry,
    bulk_job_create,
)
from wrapup_portal.core.uploads import upload_too_large

logger = logging.getLogger(__name__)
assign_wrapup = permission_required(perm("assign_wrapup"), raise_exception=True)

UPLOADS_SESSION_KEY = "assignments:uploads"
UPLOADS_KEPT = 3  # files kept for a confirm (one per open preview tab); the oldest goes first
GENESYS_DOWN = "Genesys could not be asked about these legs ({error}). Nothing was queued; try again in a moment."
UPLOAD_GONE = "That upload is no longer kept (it was confirmed already, or you signed in again): upload the file again."
JOB_QUEUED = "{count} assignment{s} queued."
CANCELLED = "Assignment #{pk} cancelled."
RETRIED = "Assignment #{old} asked for again as assignment #{new}."


def _requester(request: HttpRequest) -> Requester:
    return Requester.person(request.user)  # type: ignore[arg-type]


def _allowed(request: HttpRequest) -> set[str] | None:
    return queue_ids_for(user=request.user)  # type: ignore[arg-type]


def _form_errors(form: Any) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


# --- bulk, from the search page ---------------------------------------------------------------------------
def _review_page(request: HttpRequest, review: Review, **context: Any) -> HttpResponse:
    return render(request, "assignments/review.html", {"review": review, **context})


@require_POST
@assign_wrapup
def bulk_preview(request: HttpRequest) -> HttpResponse:
    form = BulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("interactions:search")  # the search comes back with its remembered filters
    data = form.cleaned_data
    try:
        review = selectors.selection_review(legs=data["leg"], code=data["code"], notes=data["notes"],
                                            requester=_requester(request))  # fmt: skip
    except GenesysError as error:
        messages.error(request, GENESYS_DOWN.format(error=error))
        return redirect("interactions:search")
    return _review_page(request, review, form=form, kind=Source.BULK, reason=data["reason"])


@require_POST
@assign_wrapup
def bulk_confirm(request: HttpRequest) -> HttpResponse:
    form = BulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("interactions:search")
    data, requester = form.cleaned_data, _requester(request)
    try:  # the preview again, now: what the page showed may have moved on
        review = selectors.selection_review(legs=data["leg"], code=data["code"], notes=data["notes"], requester=requester)
    except GenesysError as error:
        messages.error(request, GENESYS_DOWN.format(error=error))
        return redirect("interactions:search")
    if problem := review.confirm_problem(digest=data["digest"], skip_invalid=data["skip_invalid"]):
        return _review_page(request, review, form=form, kind=Source.BULK, reason=data["reason"], problem=problem)
    job = bulk_job_create(preview=review.preview, requester=requester, source=Source.BULK, reason=data["reason"],
                          request=request)  # fmt: skip
    messages.success(request, JOB_QUEUED.format(count=review.ok_count, s="" if review.ok_count == 1 else "s"))
    return redirect("assignments:job", pk=job.pk)


# --- CSV upload --------------------------------------------------------------------------------------------
def _keep_upload(request: HttpRequest, data: bytes, name: str) -> str:
    """The file waits in the session for its confirm (a POST can then carry only its key)."""
    kept: dict[str, dict[str, str]] = request.session.get(UPLOADS_SESSION_KEY, {})
    key = secrets.token_urlsafe(16)
    kept[key] = {"name": name[:255], "text": data.decode("utf-8")}
    request.session[UPLOADS_SESSION_KEY] = dict(list(kept.items())[-UPLOADS_KEPT:])
    return key


def _kept_upload(request: HttpRequest, key: str) -> dict[str, str] | None:
    return request.session.get(UPLOADS_SESSION_KEY, {}).get(key)


def _forget_upload(request: HttpRequest, key: str) -> None:
    kept = request.session.get(UPLOADS_SESSION_KEY, {})
    kept.pop(key, None)
    request.session[UPLOADS_SESSION_KEY] = kept


@require_http_methods(["GET", "POST"])
@assign_wrapup
def upload(request: HttpRequest) -> HttpResponse:
    # Bound on every POST: one whose only field (the file) was skipped for its size is still a submission.
    posted = request.method == "POST"
    form = UploadForm(request.POST if posted else None, request.FILES if posted else None,
                      too_large=upload_too_large(request))  # fmt: skip
    if request.method == "POST" and form.is_valid():
        upload_file = form.cleaned_data["file"]
        data = upload_file.read()
        try:
            review = selectors.csv_review(data=data, requester=_requester(request))
        except GenesysError as error:
            form.add_error(None, GENESYS_DOWN.format(error=error))
        else:
            if review.file_errors:
                form.add_error("file", review.file_errors)
            else:
                key = _keep_upload(request, data, upload_file.name)
                return _review_page(request, review, kind=Source.CSV, upload=key, file_name=upload_file.name,
                                    reason=form.cleaned_data["reason"])  # fmt: skip
    return render(request, "assignments/upload.html", {"form": form, "max_rows": MAX_ROWS, "max_mb": MAX_BYTES // 2**20})


@require_POST
@assign_wrapup
def upload_confirm(request: HttpRequest) -> HttpResponse:
    form = UploadConfirmForm(request.POST)
    kept = _kept_upload(request, form.cleaned_data["upload"]) if form.is_valid() else None
    if kept is None:
        messages.error(request, UPLOAD_GONE)
        return redirect("assignments:upload")
    data, requester, key = form.cleaned_data, _requester(request), form.cleaned_data["upload"]
    try:
        review = selectors.csv_review(data=kept["text"].encode("utf-8"), requester=requester)
    except GenesysError as error:
        messages.error(request, GENESYS_DOWN.format(error=error))
        return redirect("assignments:upload")
    if problem := review.confirm_problem(digest=data["digest"], skip_invalid=data["skip_invalid"]):
        return _review_page(request, review, kind=Source.CSV, upload=key, file_name=kept["name"], reason=data["reason"],
                            problem=problem)  # fmt: skip
    job = bulk_job_create(preview=review.preview, requester=requester, source=Source.CSV, reason=data["reason"],
                          file_name=kept["name"], request=request)  # fmt: skip
    _forget_upload(request, key)
    messages.success(request, JOB_QUEUED.format(count=review.ok_count, s="" if review.ok_count == 1 else "s"))
    return redirect("assignments:job", pk=job.pk)


# --- following them ----------------------------------------------------------------------------------------
@require_GET
@assign_wrapup
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = selectors.job_get(pk=pk, user=request.user, allowed=_allowed(request))
    if job is None:
        raise Http404("No such job, or not on your queues.")
    rows = Paginator(selectors.job_assignments(job=job), 100).get_page(request.GET.get("page"))
    template = "assignments/job.html#progress" if request.htmx else "assignments/job.html"
    return render(request, template, {"job": job, "progress": selectors.job_progress(job=job), "rows": rows})


@require_GET
@assign_wrapup
def assignment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = selectors.assignment_get(pk=pk, allowed=_allowed(request))
    if assignment is None:
        raise Http404("No such assignment, or not on your queues.")
    template = "assignments/detail.html#status" if request.htmx else "assignments/detail.html"
    return render(request, template, {"a": assignment, "history": selectors.assignment_history(assignment=assignment)})


@require_GET
@assign_wrapup
def assignment_list(request: HttpRequest) -> HttpResponse:
    form = StateFilterForm(request.GET)
    states = form.cleaned_data["state"] if form.is_valid() else []
    allowed = _allowed(request)
    rows = selectors.assignment_list(user=request.user, allowed=allowed, states=states)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "assignments/list.html", {"form": form, "page": page, "everyone": allowed is None,
                                                      "jobs": selectors.job_list(user=request.user, allowed=allowed)})


def _visible(request: HttpRequest, pk: int) -> Assignment:
    assignment = selectors.assignment_get(pk=pk, allowed=_allowed(request))
    if assignment is None:
        raise Http404("No such assignment, or not on your queues.")
    return assignment


def _back(request: HttpRequest, fallback: Assignment | BulkJob) -> HttpResponse:
    """To the page the button was on (the job's, the list, the assignment's), never off the site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    if isinstance(fallback, BulkJob):
        return redirect("assignments:job", pk=fallback.pk)
    return redirect("assignments:detail", pk=fallback.pk)


@require_POST
@assign_wrapup
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _visible(request, pk)
    try:
        assignment_cancel(assignment_id=assignment.pk, requester=_requester(request), request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, CANCELLED.format(pk=assignment.pk))
    return _back(request, assignment)


@require_POST
@assign_wrapup
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _visible(request, pk)
    try:
        new = assignment_retry(assignment_id=assignment.pk, requester=_requester(request), request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except GenesysError as error:
        messages.error(request, GENESYS_DOWN.format(error=error))
    else:
        messages.success(request, RETRIED.format(old=assignment.pk, new=new.pk))
        return _back(request, new)
    return _back(request, assignment)
