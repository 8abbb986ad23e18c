"""Compliance pages: the filtered log, one event with its neighbours, exports and manifests."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from wrapup_portal.accounts.roles import perm
from wrapup_portal.audit.exports import CONTENT_TYPES, export_stream
from wrapup_portal.audit.filters import remembered_filter
from wrapup_portal.audit.forms import AuditFilterForm, ExportForm, filter_query
from wrapup_portal.audit.models import Action
from wrapup_portal.audit.selectors import (
    EventPage,
    audit_chain_status,
    audit_event_get,
    audit_event_neighbours,
    audit_event_page,
    audit_export_manifest,
    audit_verification_result,
)
from wrapup_portal.audit.services import audit_export_complete, audit_export_start, audit_verification_request
from wrapup_portal.audit.verification import audit_event_integrity

FILTER_SESSION_KEY = "audit:filter"
NO_MANIFEST = "Event #{sequence} is not a finished export, so it has no manifest."
EXPORT_REFUSED = "The export did not start:"


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    # The chain status is on every audit page.
    return render(request, template, {"chain": audit_chain_status(), **context}, status=status)


@require_GET
@permission_required(perm("view_audit"), raise_exception=True)
def event_list(request: HttpRequest) -> HttpResponse:
    if (restored := remembered_filter(request, FILTER_SESSION_KEY)) is not None:
        return restored
    form = AuditFilterForm(request.GET)
    page = EventPage([])
    if form.is_valid():
        query = request.session[FILTER_SESSION_KEY] = filter_query(request.GET)
        page = audit_event_page(filters=form.to_filter(), before=form.cleaned_data["before"], after=form.cleaned_data["after"])
    else:
        query = ""
    template = "audit/list.html#results" if request.htmx else "audit/list.html"
    return _render(request, template, {"form": form, "page": page, "query": query})


@require_GET
@permission_required(perm("view_audit"), raise_exception=True)
def event_detail(request: HttpRequest, sequence: int) -> HttpResponse:
    event = audit_event_get(sequence=sequence)
    if event is None:
        raise Http404
    previous, following = audit_event_neighbours(sequence=sequence)
    hash_ok, linked = audit_event_integrity(event=event, previous=previous)
    context = {"event": event, "previous": previous, "following": following, "hash_ok": hash_ok, "linked": linked}
    return _render(request, "audit/detail.html", {**context, "has_manifest": audit_export_manifest(event_sequence=sequence) is not None})


@require_GET
@permission_required(perm("export_audit"), raise_exception=True)
def export(request: HttpRequest) -> HttpResponse:
    form = ExportForm(request.GET)
    if not form.is_valid():
        # Said on this response (400), not flashed: a download link's redirect is never seen,
        # and the message would then turn up on whatever page comes next.
        errors = [f"{form[name].label}: {e}" if name in form.fields else e
                  for name, field_errors in form.errors.items() for e in field_errors]
        return _render(request, "audit/problem.html", {"title": "Export refused", "lead": EXPORT_REFUSED,
                                                       "errors": errors, "query": filter_query(request.GET)}, status=400)
    fmt, filters = form.export_format(), form.to_filter()
    record = audit_export_start(request=request, fmt=fmt, filters=filters.as_dict())
    stream = export_stream(
        fmt=fmt, filters=filters, head_sequence=record.head_sequence, head_hash=record.head_hash,
        export_event=record.event_sequence, generated_by=request.user.get_username(),
        on_complete=functools.partial(_complete, record),
    )
    response = StreamingHttpResponse(stream, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="audit-export-{record.event_sequence}.{fmt}"'
    response["X-Audit-Manifest"] = reverse("audit:manifest", args=[record.event_sequence])
    return response


def _complete(record: Any, manifest: dict[str, Any]) -> None:
    audit_export_complete(export=record, manifest=manifest)


@require_GET
@permission_required(perm("export_audit"), raise_exception=True)
def export_manifest(request: HttpRequest, sequence: int) -> HttpResponse:
    manifest = audit_export_manifest(event_sequence=sequence)
    if manifest is None:
        return _render(request, "audit/problem.html", {"title": "No manifest", "errors": [NO_MANIFEST.format(sequence=sequence)],
                                                       "event_sequence": sequence}, status=404)
    response = JsonResponse(manifest, json_dumps_params={"sort_keys": True, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="audit-export-{sequence}.manifest.json"'
    return response


@require_POST
@permission_required(perm("export_audit"), raise_exception=True)
def verify(request: HttpRequest) -> HttpResponse:
    event = audit_verification_request(by=request.user, request=request)
    return redirect("audit:verification", sequence=event.sequence)


@require_GET
@permission_required(perm("export_audit"), raise_exception=True)
def verification(request: HttpRequest, sequence: int) -> HttpResponse:
    requested = audit_event_get(sequence=sequence)
    if requested is None or requested.action != Action.CHAIN_VERIFY_REQUESTED:
        raise Http404
    answer = audit_verification_result(request_sequence=sequence)
    if request.htmx and answer is not None:
        return HttpResponseClientRefresh()  # done: reload, so the chain status above is current too
    template = "audit/verification.html#progress" if request.htmx else "audit/verification.html"
    return _render(request, template, {"requested": requested, "answer": answer})
