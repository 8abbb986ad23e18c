"""The hash chain: canonical JSON of an event, its SHA-256, and checkpoint signatures.

Pure functions over plain values, so `verify_audit`, exports and `verify_export` hash
exactly the same bytes. Changing anything here invalidates every stored hash: don't.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import operator
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

GENESIS_HASH = "0" * 64
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

# The hashed fields, in the order exports write them. `hash` itself comes last, outside.
HASHED_FIELDS: tuple[str, ...] = (
    "sequence",
    "occurred_at",
    "actor_kind",
    "actor_id",
    "actor_username",
    "action",
    "target_kind",
    "target_id",
    "conversation_id",
    "participant_id",
    "queue_id",
    "code_before_id",
    "code_before_name",
    "code_after_id",
    "code_after_name",
    "outcome",
    "reason",
    "source_ip",
    "user_agent",
    "request_id",
    "correlation_id",
    "extra",
    "prev_hash",
)
ROW_FIELDS: tuple[str, ...] = (*HASHED_FIELDS, "hash")
_TIME_AT = HASHED_FIELDS.index("occurred_at")
_EXTRA_AT = HASHED_FIELDS.index("extra")


def format_time(value: datetime) -> str:
    """Fixed ISO form in UTC with microseconds, whatever the database or time zone.

    A naive datetime is UTC (that is how SQLite hands back stored values when Django's
    converters are skipped), never local time.
    """
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"


def canonical_time(value: datetime | str) -> str:
    """TIME_FORMAT text from a datetime, or from raw 'YYYY-MM-DD HH:MM:SS[.ffffff]' text (UTC)."""
    if isinstance(value, datetime):
        return format_time(value)
    if value.endswith("Z"):
        return value  # already canonical
    return value[:10] + "T" + value[11:19] + (value[19:26] if len(value) > 19 else ".000000") + "Z"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_extra(value: Mapping[str, Any] | str | None, *, stored_canonical: bool = False) -> str:
    """The extra column as canonical JSON, from a dict or the database's raw JSON text.

    `stored_canonical`: the raw text is the column's stored text, which CanonicalJSONField
    wrote canonically on every database, so it is hashed as it is, without a parse. Any
    edit of that text then changes the hash, as it should.
    """
    if not value or value == "{}":
        return "{}"
    if isinstance(value, str):
        return value if stored_canonical else canonical_json(json.loads(value))
    return canonical_json(value)


_encode_str = json.encoder.encode_basestring  # what json.dumps uses with ensure_ascii=False
_SPECIAL = ("sequence", "occurred_at", "extra")


def _build(names: tuple[str, ...]) -> Any:
    # Byte for byte what canonical_json(dict(...)) gives (a test holds it to that), as one
    # str.format per row instead of the generic encoder: verify and exports do this a
    # million times. Slots {0} {1} {2} are sequence, time and extra; the rest are strings.
    strings = [name for name in sorted(names) if name not in _SPECIAL]
    slots = {name: "\x00" + str(i) + "\x01" for i, name in enumerate((*_SPECIAL, *strings))}
    body = "{" + ",".join(f"{_encode_str(name)}:{slots[name]}" for name in sorted(names)) + "}"
    body = body.replace("{", "{{").replace("}", "}}").replace("\x00", "{").replace("\x01", "}")
    getter = operator.itemgetter(*[names.index(name) for name in strings])
    return body, getter


_HASHED_TEMPLATE, _HASHED_STRINGS = _build(HASHED_FIELDS)
_ROW_TEMPLATE, _ROW_STRINGS = _build((*HASHED_FIELDS, "hash"))


def _canonical_record(values: Sequence[Any], template: str, strings: Any, stored_canonical: bool = False) -> str:
    return template.format(
        values[0],
        _encode_str(canonical_time(values[_TIME_AT])),
        canonical_extra(values[_EXTRA_AT], stored_canonical=stored_canonical),
        *map(_encode_str, strings(values)),
    )


def event_hash(values: Sequence[Any], *, stored_canonical: bool = False) -> str:
    """SHA-256 of the canonical JSON of one event's HASHED_FIELDS values (raw or converted)."""
    text = _canonical_record(values, _HASHED_TEMPLATE, _HASHED_STRINGS, stored_canonical)
    return hashlib.sha256(text.encode()).hexdigest()


def row_json(values: Sequence[Any], *, stored_canonical: bool = False) -> str:
    """One exported JSON Lines record: every hashed field plus `hash`, canonical."""
    return _canonical_record(values, _ROW_TEMPLATE, _ROW_STRINGS, stored_canonical)


def event_hash_from_mapping(row: Mapping[str, Any]) -> str:
    return event_hash([row[name] for name in HASHED_FIELDS])


def sign(payload: Mapping[str, Any]) -> str:
    """HMAC-SHA256 with the secret key over the canonical JSON of `payload`."""
    return hmac.new(settings.SECRET_KEY.encode(), canonical_json(dict(payload)).encode(), hashlib.sha256).hexdigest()


def signature_ok(payload: Mapping[str, Any], signature: str) -> bool:
    return hmac.compare_digest(sign(payload), signature)


def checkpoint_payload(*, sequence: int, hash: str, verified_at: datetime, events_checked: int) -> dict[str, Any]:
    return {
        "kind": "audit-checkpoint",
        "sequence": sequence,
        "hash": hash,
        "verified_at": format_time(verified_at),
        "events_checked": events_checked,
    }
