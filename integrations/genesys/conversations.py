"""Frozen results of the Conversations API (docs/genesys-api.md §4): conversation, participants, wrap-up.

The Conversations API writes ``wrapup.code`` (lower-case u); analytics writes ``wrapUpCode``
(see ``analytics.py``). Unknown fields are ignored, ids and times are checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import _parse as p
from .models import DivisionRef

# Per-media communication lists of a Conversations API participant.
MEDIA_KEYS: tuple[str, ...] = (
    "calls", "callbacks", "chats", "cobrowsesessions", "emails", "messages", "screenshares",
    "socialExpressions", "videos",
)  # fmt: skip


@dataclass(frozen=True)
class Wrapup:
    """A participant's wrap-up as the Conversations API writes it (``wrapup.code``, lower-case u)."""

    code: str
    name: str | None = None
    notes: str | None = None
    tags: tuple[str, ...] = ()
    duration_seconds: int | None = None
    end_time: datetime | None = None
    provisional: bool = False

    @classmethod
    def from_api(cls, data: Any) -> Wrapup | None:
        """None when there is no wrap-up yet (absent, empty or without a code)."""
        if not isinstance(data, Mapping) or not data.get("code"):
            return None
        return cls(
            code=str(data["code"]),
            name=p.opt_str(data, "name"),
            notes=p.opt_str(data, "notes"),
            tags=p.str_tuple(data, "tags"),
            duration_seconds=p.opt_int(data, "durationSeconds"),
            end_time=p.opt_time(data, "endTime", "wrapup"),
            provisional=p.opt_bool(data, "provisional"),
        )


@dataclass(frozen=True)
class Communication:
    """One communication of a participant (a call, an email…); ``media`` is the list it came from."""

    id: str
    media: str
    state: str | None = None
    direction: str | None = None
    disconnect_type: str | None = None
    connected_time: datetime | None = None
    disconnected_time: datetime | None = None
    acw_state: str | None = None  # afterCallWork.state: unknown|notApplicable|skipped|pending|complete
    wrapup: Wrapup | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any], media: str) -> Communication:
        what = f"{media} communication"
        acw = data.get("afterCallWork")
        return cls(
            id=p.req_str(data, "id", what),
            media=media,
            state=p.opt_str(data, "state"),
            direction=p.opt_str(data, "direction"),
            disconnect_type=p.opt_str(data, "disconnectType"),
            connected_time=p.opt_time(data, "connectedTime", what),
            disconnected_time=p.opt_time(data, "disconnectedTime", what),
            acw_state=p.opt_str(acw, "state") if isinstance(acw, Mapping) else None,
            wrapup=Wrapup.from_api(data.get("wrapup")),
        )


@dataclass(frozen=True)
class Participant:
    """A participant of a conversation; wrap-up is written to an agent participant's ``id``."""

    id: str
    purpose: str | None = None
    user_id: str | None = None
    name: str | None = None
    queue_id: str | None = None
    queue_name: str | None = None
    team_id: str | None = None
    ani: str | None = None
    dnis: str | None = None
    start_time: datetime | None = None
    connected_time: datetime | None = None
    end_time: datetime | None = None
    wrapup_required: bool = False
    wrapup_prompt: str | None = None  # participant enum: mandatory|optional|agentRequested|timeout|forcedTimeout
    wrapup_timeout_ms: int | None = None
    wrapup_skipped: bool = False
    wrapup: Wrapup | None = None
    start_acw_time: datetime | None = None
    end_acw_time: datetime | None = None
    communications: tuple[Communication, ...] = ()

    @property
    def in_acw_without_code(self) -> bool:
        """The reference's "in ACW now" test: agent, wrap-up required, ACW started and open, no code,
        every communication disconnected (or terminated)."""
        return (
            self.purpose == "agent"
            and self.wrapup_required
            and self.start_acw_time is not None
            and self.end_acw_time is None
            and self.wrapup is None
            and all(c.state in ("disconnected", "terminated") for c in self.communications)
        )

    @classmethod
    def from_api(cls, data: Any) -> Participant:
        data = p.as_mapping(data, "participant")
        what = f"participant {data.get('id')!r}"
        comms = tuple(Communication.from_api(item, media) for media in MEDIA_KEYS for item in p.obj_list(data, media))
        return cls(
            id=p.req_str(data, "id", "participant"),
            purpose=p.opt_str(data, "purpose"),
            user_id=p.opt_str(data, "userId"),
            name=p.opt_str(data, "name"),
            queue_id=p.opt_str(data, "queueId"),
            queue_name=p.opt_str(data, "queueName"),
            team_id=p.opt_str(data, "teamId"),
            ani=p.opt_str(data, "ani"),
            dnis=p.opt_str(data, "dnis"),
            start_time=p.opt_time(data, "startTime", what),
            connected_time=p.opt_time(data, "connectedTime", what),
            end_time=p.opt_time(data, "endTime", what),
            wrapup_required=p.opt_bool(data, "wrapupRequired"),
            wrapup_prompt=p.opt_str(data, "wrapupPrompt"),
            wrapup_timeout_ms=p.opt_int(data, "wrapupTimeoutMs"),
            wrapup_skipped=p.opt_bool(data, "wrapupSkipped"),
            wrapup=Wrapup.from_api(data.get("wrapup")),
            start_acw_time=p.opt_time(data, "startAcwTime", what),
            end_acw_time=p.opt_time(data, "endAcwTime", what),
            communications=comms,
        )


@dataclass(frozen=True)
class Conversation:
    """``GET /api/v2/conversations/{id}``; ``end_time`` is None while the conversation is active."""

    id: str
    start_time: datetime | None = None
    end_time: datetime | None = None
    address: str | None = None
    external_tag: str | None = None
    division_ids: tuple[str, ...] = ()
    participants: tuple[Participant, ...] = ()

    def participant(self, participant_id: str) -> Participant | None:
        """The participant with this id, if the conversation has it."""
        return next((item for item in self.participants if item.id == participant_id), None)

    @property
    def agent_participants(self) -> tuple[Participant, ...]:
        """The agent legs, each with its own wrap-up."""
        return tuple(item for item in self.participants if item.purpose == "agent")

    @classmethod
    def from_api(cls, data: Any) -> Conversation:
        data = p.as_mapping(data, "conversation")
        what = f"conversation {data.get('id')!r}"
        # divisions: [{"division": {"id"}, "entities": [...]}] (inner shape illustrative in the reference).
        divisions = []
        for item in p.obj_list(data, "divisions"):
            ref = DivisionRef.from_api(item.get("division"))
            if ref:
                divisions.append(ref.id)
        return cls(
            id=p.req_str(data, "id", "conversation"),
            start_time=p.opt_time(data, "startTime", what),
            end_time=p.opt_time(data, "endTime", what),
            address=p.opt_str(data, "address"),
            external_tag=p.opt_str(data, "externalTag"),
            division_ids=tuple(divisions),
            participants=tuple(Participant.from_api(item) for item in p.obj_list(data, "participants")),
        )
