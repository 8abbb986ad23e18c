"""`{{ delta|duration }}`: a timedelta in words for people ("15 minutes", "1 hour 30 minutes")."""

from __future__ import annotations

from datetime import timedelta

from django import template

register = template.Library()

_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


@register.filter
def duration(value: timedelta | None) -> str:
    """The two largest non-zero units, rounded down: timedelta(minutes=90) -> "1 hour 30 minutes"."""
    if not isinstance(value, timedelta):
        return ""
    seconds = max(int(value.total_seconds()), 0)
    parts = []
    for name, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {name}{'' if count == 1 else 's'}")
    return " ".join(parts[:2]) or "0 seconds"
