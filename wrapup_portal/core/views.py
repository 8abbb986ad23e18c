"""Health, system status and error pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from wrapup_portal.accounts.roles import perm
from wrapup_portal.audit.models import Action
from wrapup_portal.audit.services import Actor, audit_record
from wrapup_portal.core.middleware import same_origin_referer
from wrapup_portal.core.selectors import health_report, health_summary, schedule_list


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    # Anyone may probe it (load balancers do), so only those who may see System status get the detail.
    healthy, checks = health_report()
    body = health_summary(healthy, checks, detail=request.user.has_perm(perm("view_system")))
    return JsonResponse(body, status=200 if healthy else 503)


@require_GET
@permission_required(perm("view_system"), raise_exception=True)
def status(request: HttpRequest) -> HttpResponse:
    healthy, checks = health_report(use_cache=False)
    return render(request, "core/status.html", {"healthy": healthy, "checks": checks, "schedules": schedule_list()})


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # Every refusal is audited: who tried what, from where.
    audit_record(
        action=Action.PERMISSION_DENIED, actor=Actor.for_user(getattr(request, "user", None)), request=request,
        outcome="denied", target_kind="url", target_id=request.get_full_path()[:255], extra={"method": request.method},
    )
    return render(request, "403.html", status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form sent with a stale or missing token (a page left open, a sign-in
    in another tab, cookies cleared). Nothing was done; the person reloads the page and sends it again.
    """
    audit_record(
        action=Action.PERMISSION_DENIED, actor=Actor.for_user(getattr(request, "user", None)), request=request,
        outcome="csrf_failed", reason=reason, target_kind="url", target_id=request.get_full_path()[:255],
        extra={"method": request.method},
    )
    # Back to the page the form was on; a form's action URL may answer only POST.
    reload_url = same_origin_referer(request) or reverse("overview:home")
    return render(request, "403_csrf.html", {"reload_url": reload_url}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No context processors that touch the database: the error may be the database.
    from django.template import loader

    return HttpResponse(loader.get_template("500.html").render({"request_id": getattr(request, "request_id", "")}), status=500)
