"""Parsing helpers shared by the result models: lenient about extra or missing optional fields,
strict about the fields the portal keys on (ids, times).

Strict failures raise ``InvalidResponseError`` naming the entity and the field, never a bare
``KeyError`` or ``ValueError`` from deep inside a loop.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from .errors import InvalidArgumentError, InvalidResponseError

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def as_mapping(data: Any, what: str) -> Mapping[str, Any]:
    """``data`` if it is a JSON object, else an ``InvalidResponseError``."""
    if not isinstance(data, Mapping):
        raise InvalidResponseError(f"Expected a JSON object for {what}, got {type(data).__name__}.")
    return data


def req_str(data: Mapping[str, Any], key: str, what: str) -> str:
    """A required, non-empty string field."""
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidResponseError(f"{what} has no valid {key!r}.")
    return value


def opt_str(data: Mapping[str, Any], key: str) -> str | None:
    """An optional string field; non-strings (a stray number) are turned into text."""
    value = data.get(key)
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def opt_int(data: Mapping[str, Any], key: str) -> int | None:
    """An optional integer field; anything unparseable counts as missing."""
    value = data.get(key)
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def opt_bool(data: Mapping[str, Any], key: str, default: bool = False) -> bool:
    """An optional boolean field."""
    value = data.get(key)
    return value if isinstance(value, bool) else default


def str_tuple(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """A list of strings (missing → empty); non-string items are skipped."""
    value = data.get(key)
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def obj_list(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """A list of JSON objects (missing or null → empty); non-objects are skipped."""
    value = data.get(key)
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def parse_time(value: Any, what: str) -> datetime:
    """An ISO-8601 time as an aware UTC datetime (Genesys writes UTC with ``Z``)."""
    if not isinstance(value, str) or not value:
        raise InvalidResponseError(f"{what} is not a time: {value!r}.")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidResponseError(f"{what} is not an ISO-8601 time: {value[:40]!r}.") from None
    # Genesys times are UTC; a time without an offset is read as UTC rather than as local time.
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def opt_time(data: Mapping[str, Any], key: str, what: str) -> datetime | None:
    """An optional time field: missing or null → None, present but malformed → error."""
    value = data.get(key)
    if value is None or value == "":
        return None
    return parse_time(value, f"{what}.{key}")


def check_id(value: Any, what: str) -> str:
    """Validate an id the caller passes in (a UUID, as every Genesys id is); returns it normalised."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgumentError(f"{what} is required.")
    value = value.strip()
    if not _UUID.match(value):
        raise InvalidArgumentError(f"{what} must be a UUID, got {value[:60]!r}.")
    return value.lower()


def is_uuid(value: str) -> bool:
    """True when ``value`` looks like a Genesys id."""
    return bool(_UUID.match(value))
