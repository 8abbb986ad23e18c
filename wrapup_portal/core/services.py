"""Writes for shared pieces."""

from __future__ import annotations

from django.utils import timezone

from wrapup_portal.core.models import Heartbeat


def heartbeat_record(*, name: str, detail: str = "") -> Heartbeat:
    beat, _ = Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": timezone.now(), "detail": detail})
    return beat
