"""What a read of Genesys says about one agent leg, whichever API it came from.

Decisions are taken from this, never from guessing status codes: a leg still connected is
waited for, a leg in ACW is written, a leg whose ACW is over has the code Genesys kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.genesys import AnalyticsParticipant, Participant
from wrapup_portal.assignments.models import LegState

ENDED = ("disconnected", "terminated")


@dataclass(frozen=True)
class Leg:
    conversation_id: str
    participant_id: str
    is_agent: bool
    queue_id: str
    user_id: str
    state: str  # LegState
    code: str  # the code id or ININ-* literal it carries, "" when none


def leg_from_participant(conversation_id: str, participant: Participant) -> Leg:
    """From ``GET /api/v2/conversations/{id}`` (current, not delayed like analytics)."""
    if participant.end_acw_time is not None:
        state = LegState.FINAL
    elif participant.start_acw_time is not None:
        state = LegState.ACW
    elif participant.communications and all(c.state in ENDED for c in participant.communications):
        # Disconnected without after-call work (none required, or an agent-requested prompt).
        state = LegState.ACW if participant.wrapup_required and participant.end_time is None else LegState.FINAL
    else:
        state = LegState.CONNECTED
    return Leg(conversation_id, participant.id, participant.purpose == "agent", participant.queue_id or "",
               participant.user_id or "", state, participant.wrapup.code if participant.wrapup else "")  # fmt: skip


def leg_from_analytics(conversation_id: str, participant: AnalyticsParticipant) -> Leg:
    """From the analytics details (batched: one read per 100 conversations)."""
    state = {"connected": LegState.CONNECTED, "acw": LegState.ACW}.get(participant.leg_state, LegState.FINAL)
    queue_id = next(iter(sorted(participant.queue_ids)), "")
    return Leg(conversation_id, participant.participant_id, participant.purpose == "agent", queue_id,
               participant.user_id or "", state, str(participant.wrap_up_code or ""))  # fmt: skip
