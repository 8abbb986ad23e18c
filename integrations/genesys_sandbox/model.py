"""In-memory entities of the emulated organisation.

Plain slotted dataclasses: 100k conversations must fit comfortably in memory. Times are
epoch seconds (floats); the JSON views in ``views.py`` turn them into ISO strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

TIMEOUT_CODE = "ININ-WRAP-UP-TIMEOUT"

# Queue ACW enum → participant enum (§3; the pairing is UNVERIFIED but the obvious one).
PROMPTS = {
    "OPTIONAL": "optional",
    "MANDATORY": "mandatory",
    "MANDATORY_TIMEOUT": "timeout",
    "MANDATORY_FORCED_TIMEOUT": "forcedTimeout",
    "AGENT_REQUESTED": "agentRequested",
}
TIMED_PROMPTS = ("timeout", "forcedTimeout", "agentRequested")

# analytics mediaType → Conversation API communication list and per-media path segment.
MEDIA_LIST = {"voice": "calls", "chat": "chats", "email": "emails", "message": "messages", "callback": "callbacks"}
MEDIA_PATHS = {
    "calls": "voice", "callbacks": "callback", "chats": "chat", "emails": "email", "messages": "message",
    "cobrowsesessions": "cobrowse", "screenshares": "screenshare", "socials": "social", "videos": "video",
}


@dataclass(slots=True)
class Division:
    id: str
    name: str


@dataclass(slots=True)
class WrapupCode:
    id: str
    name: str
    division_id: str
    description: str
    created: float
    modified: float
    author_id: str
    deleted: bool = False


@dataclass(slots=True)
class Queue:
    id: str
    name: str
    division_id: str
    description: str
    acw_prompt: str  # queue enum, e.g. MANDATORY_TIMEOUT
    timeout_ms: int | None
    code_ids: list[str]  # active codes offered now, in assignment order
    historic_code_ids: list[str]  # also the deleted ones, used by old history
    member_ids: list[str]
    created: float
    author_id: str
    # Deleted through the API: gone from the routing endpoints, still known to old conversations.
    deleted: bool = False

    @property
    def prompt(self) -> str:
        """The participant-side enum for this queue's ACW prompt."""
        return PROMPTS[self.acw_prompt]


@dataclass(slots=True)
class Agent:
    id: str
    name: str
    email: str
    division_id: str
    team_id: str
    queue_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Leg:
    """One agent participant (one agent leg), with its ACD participant for the queue it came from."""

    pid: str
    comm_id: str
    acd_pid: str
    acd_comm_id: str
    user_id: str
    queue_id: str
    queued: float  # entered the queue (ACD participant starts)
    alerted: float
    connected: float | None
    prompt: str  # participant enum
    timeout_ms: int | None
    ended: float | None = None  # disconnected: interaction over
    disconnect_type: str = "peer"
    wrapup_required: bool = True
    acw_start: float | None = None
    acw_end: float | None = None
    skipped: bool = False
    wrapup: dict | None = None  # Conversation-API shape, set when a code is saved
    provisional: dict | None = None
    history: list[tuple[float, str | None, str | None]] = field(default_factory=list)  # (t, code, notes)
    held_ms: int = 0

    @property
    def state(self) -> str:
        """``alerting`` | ``connected`` | ``acw`` | ``done``."""
        if self.ended is None:
            return "connected" if self.connected is not None else "alerting"
        if self.acw_start is not None and self.acw_end is None:
            return "acw"
        return "done"


@dataclass(slots=True)
class Conversation:
    id: str
    media: str  # analytics enum: voice | chat | email | message
    direction: str  # inbound | outbound
    division_id: str
    start: float
    ani: str
    dnis: str
    customer_pid: str
    customer_comm_id: str
    customer_name: str
    legs: list[Leg]
    customer_end: float | None = None
    end: float | None = None
    external_tag: str | None = None
    subject: str | None = None
    message_type: str | None = None
    origin: str = "history"  # history | live | control

    def leg(self, pid: str) -> Leg | None:
        """The agent leg with this participant id, if any."""
        for leg in self.legs:
            if leg.pid == pid:
                return leg
        return None

    def participant_ids(self) -> set[str]:
        """Every participant id of the conversation (customer, ACD and agents)."""
        ids = {self.customer_pid}
        for leg in self.legs:
            ids.update((leg.pid, leg.acd_pid))
        return ids
