"""Knobs of the sandbox (``SandboxConfig``) and the size of its organisation (``OrgSpec``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

WRITE_WINDOWS = ("acw_only", "until_conversation_end", "always")
REFUSALS = (403, 400, 409)
WEBHOOK_FORMATS = ("bare", "eventbridge")


class KnobError(ValueError):
    """An unknown knob, or a knob given a value it cannot take."""


@dataclass
class SandboxConfig:
    """Run-time knobs; every one can be changed through ``POST /__sandbox/config``.

    The defaults are those of the reference (docs/genesys-api.md) where it gives one.
    """

    rate_limit: int = 300  # requests per window per token (§6: 300/min per client-credentials token)
    rate_window_seconds: float = 60.0
    token_lifetime_seconds: int = 86400  # §1: default 24 h
    error_rate: float = 0.0  # fraction of API answers replaced by 500/502/503
    latency_ms: int = 0  # added to every API answer
    drop_rate: float = 0.0  # fraction of API connections closed without an answer
    lost_answer_rate: float = 0.0  # fraction of API requests handled (a write applied) whose answer is lost
    max_page_size: int = 100  # routing lists and analytics queries; 400 above it
    write_window: str = "acw_only"
    refusal: int = 403
    client_credentials_may_write: bool = True
    silent_noop: bool = False
    analytics_delay_seconds: float = 0.0
    analytics_duplicate_rate: float = 0.0
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_format: str = "bare"
    # Live and control-made conversations are forgotten this long after they end (0: never), so a
    # demo left running for weeks stays bounded. The seeded history is kept: its size is fixed at start.
    history_hours: float = 24.0

    def update(self, changes: dict[str, Any]) -> None:
        """Apply a partial dict of knobs, all or nothing; raise ``KnobError`` on any bad one."""
        candidate = dataclasses.replace(self)
        known = {f.name: f for f in dataclasses.fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise KnobError(f"unknown knob {name!r}")
            setattr(candidate, name, _coerce(name, value))
        candidate.validate()
        for name in changes:
            setattr(self, name, getattr(candidate, name))

    def validate(self) -> None:
        """Raise ``KnobError`` when a value is out of its range."""
        for name in ("error_rate", "drop_rate", "lost_answer_rate", "analytics_duplicate_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise KnobError(f"{name} must be between 0 and 1")
        if self.rate_limit < 1 or self.rate_window_seconds <= 0:
            raise KnobError("rate_limit and rate_window_seconds must be positive")
        if self.token_lifetime_seconds < 1 or self.max_page_size < 1:
            raise KnobError("token_lifetime_seconds and max_page_size must be positive")
        if self.latency_ms < 0 or self.analytics_delay_seconds < 0 or self.history_hours < 0:
            raise KnobError("latency_ms, analytics_delay_seconds and history_hours cannot be negative")
        if self.write_window not in WRITE_WINDOWS:
            raise KnobError(f"write_window must be one of {', '.join(WRITE_WINDOWS)}")
        if self.refusal not in REFUSALS:
            raise KnobError("refusal must be 403, 400 or 409")
        if self.webhook_format not in WEBHOOK_FORMATS:
            raise KnobError(f"webhook_format must be one of {', '.join(WEBHOOK_FORMATS)}")

    def to_dict(self) -> dict[str, Any]:
        """The knobs as JSON-ready values."""
        return dataclasses.asdict(self)


_TYPES: dict[str, type] = {
    f.name: f.type for f in dataclasses.fields(SandboxConfig)  # type: ignore[misc]
}


def _coerce(name: str, value: Any) -> Any:
    """Accept JSON values and command-line strings alike ("0.5", "true", "none")."""
    kind = str(_TYPES[name])
    if isinstance(value, str) and value.lower() in ("none", "null", "") and "None" in kind:
        return None
    try:
        if kind == "bool":
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(value)
                return value.lower() in ("true", "1", "yes")
            if not isinstance(value, bool):
                raise ValueError(value)
            return value
        if kind == "int":
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
    except (TypeError, ValueError):
        raise KnobError(f"{name}: {value!r} is not a valid {kind}") from None
    if value is not None and not isinstance(value, str):
        raise KnobError(f"{name}: {value!r} is not a string")
    return value


@dataclass(frozen=True)
class OrgSpec:
    """How big the generated organisation is. ``conversations=None`` means ~4 per agent-day."""

    divisions: int = 3
    queues: int = 8
    codes: int = 40
    agents: int = 30
    days: int = 21
    conversations: int | None = None
    deleted_codes: int | None = None  # None: a tenth of the codes, at least 3
    # Codes each queue offers besides the three general ones: (min, max) drawn per queue.
    codes_per_queue: tuple[int, int] = (6, 12)

    def conversation_count(self) -> int:
        """Number of historical conversations to generate."""
        if self.conversations is not None:
            return max(0, self.conversations)
        return self.agents * self.days * 4

    def deleted_count(self) -> int:
        """Number of codes that exist only as deleted (divisionviews, old analytics)."""
        if self.deleted_codes is not None:
            return max(0, min(self.deleted_codes, self.codes - 1))
        return max(3, self.codes // 10) if self.codes > 6 else 0


DEFAULTS = SandboxConfig()
KNOB_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(SandboxConfig))
