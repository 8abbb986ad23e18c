"""Webhooks Genesys (or its EventBridge) calls: no session, no CSRF token; a shared secret instead."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from wrapup_portal.assignments import events


@csrf_exempt
@login_not_required
@require_POST
def genesys_events(request: HttpRequest) -> JsonResponse:
    """A conversation event: 202 once stored, 401 without the secret, 400 (429) with a short reason."""
    try:  # before anything else: a flooding address costs one cache count per request, no more
        events.webhook_rate_check(source=events.source_address(request))
    except events.EventRejected as refusal:
        return _refused(refusal)
    try:
        events.webhook_secret_check(request.headers.get(events.SECRET_HEADER))
    except events.EventRejected as refusal:
        events.webhook_rejected_record(request=request, reason=str(refusal))
        return _refused(refusal)
    try:
        body = events.event_body_read(request)
        parsed = events.event_parse(body=body, topic_header=request.headers.get(events.TOPIC_HEADER, ""))
        row, created = events.event_receive(event=parsed)
    except events.EventRejected as refusal:
        return _refused(refusal)
    return JsonResponse({"event": row.pk, "status": "stored" if created else "duplicate"}, status=202)


def _refused(refusal: events.EventRejected) -> JsonResponse:
    response = JsonResponse({"error": str(refusal)}, status=refusal.status)
    if refusal.retry_after is not None:
        response["Retry-After"] = str(refusal.retry_after)
    return response
