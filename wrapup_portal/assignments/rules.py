"""Auto-assign rules: which rule, if any, codes an agent leg whose after-call work starts.

A leg is described once as a ``RuleLeg`` (from the Conversations API on the event path, from
analytics for the poller and the dry run) and matched against the enabled rules of its queue
by ascending priority; the first rule whose conditions all hold wins. Empty conditions match
anything.

Codes: a leg with no code or a system ``ININ-*`` code has "no code chosen". A leg carrying a
real code is skipped unless the rule both overrides agent codes and is not limited to legs
without a code; a leg that already carries the rule's own code needs nothing.

ANI/DNIS patterns are fnmatch-style globs (``*``, ``?``, ``[0-9]``), case-insensitive, matched
against the address without its ``tel:``/``sip:``/``mailto:`` scheme: ``+1555*``.
"""

from __future__ import annotations

import fnmatch
import string
from dataclasses import dataclass
from datetime import datetime

from integrations.genesys import AnalyticsConversation, AnalyticsParticipant, Conversation, Participant
from integrations.genesys.analytics import SYSTEM_CODE_PREFIX
from wrapup_portal.assignments.models import Rule

# Conversations API communication lists -> the analytics media type rules are written in.
MEDIA_OF_LIST = {
    "calls": "voice", "callbacks": "callback", "chats": "chat", "cobrowsesessions": "cobrowse", "emails": "email",
    "messages": "message", "screenshares": "screenshare", "socialExpressions": "unknown", "videos": "video",
}  # fmt: skip
SCHEMES = ("tel:", "sip:", "sips:", "mailto:")
# What a notes template may say: "{agent} on {queue}" (str.format fields, nothing else).
TEMPLATE_KEYS = ("agent", "user_id", "queue", "queue_id", "conversation_id", "participant_id", "code", "rule",
                 "media_type", "direction", "ani", "dnis", "talk_seconds")  # fmt: skip
TALK_SEGMENTS = ("interact", "hold")


@dataclass(frozen=True)
class RuleLeg:
    """What a rule looks at on one agent leg; ``code`` is its current code id, an ININ-* literal or ""."""

    queue_id: str
    media_type: str
    direction: str
    ani: str
    dnis: str
    user_id: str
    team_id: str
    talk_seconds: int | None
    disconnect_type: str
    code: str
    conversation_id: str = ""
    participant_id: str = ""
    agent_name: str = ""

    @property
    def code_chosen(self) -> bool:
        """The agent (or someone) put a real code on it; ININ-* codes are Genesys' own."""
        return bool(self.code) and not self.code.upper().startswith(SYSTEM_CODE_PREFIX)


def address_plain(address: str) -> str:
    """``tel:+15551234`` -> ``+15551234``: patterns never spell the scheme."""
    value = (address or "").strip()
    for scheme in SCHEMES:
        if value.lower().startswith(scheme):
            return value[len(scheme):]
    return value


def pattern_matches(pattern: str, address: str) -> bool:
    return fnmatch.fnmatchcase(address_plain(address).lower(), address_plain(pattern).lower())


def rule_matches(rule: Rule, leg: RuleLeg) -> bool:
    """Every condition of ``rule`` holds for ``leg`` (the queue included)."""
    if rule.queue.queue_id != leg.queue_id:
        return False
    if leg.code_chosen and (rule.only_without_code or not rule.override_agent_code):
        return False
    if rule.media_types and leg.media_type.lower() not in rule.media_types:
        return False
    if rule.direction and leg.direction.lower() != rule.direction:
        return False
    if rule.ani_pattern and not pattern_matches(rule.ani_pattern, leg.ani):
        return False
    if rule.dnis_pattern and not pattern_matches(rule.dnis_pattern, leg.dnis):
        return False
    if rule.user_ids and leg.user_id.lower() not in rule.user_ids:
        return False
    if rule.team_ids and leg.team_id.lower() not in rule.team_ids:
        return False
    if rule.talk_seconds_min is not None or rule.talk_seconds_max is not None:
        if leg.talk_seconds is None:
            return False  # a duration condition cannot hold for a leg whose duration is unknown
        if rule.talk_seconds_min is not None and leg.talk_seconds < rule.talk_seconds_min:
            return False
        if rule.talk_seconds_max is not None and leg.talk_seconds > rule.talk_seconds_max:
            return False
    if rule.disconnect_types and leg.disconnect_type.lower() not in rule.disconnect_types:
        return False
    return True


def rule_pick(rules: list[Rule], leg: RuleLeg) -> Rule | None:
    """The first of ``rules`` (already in priority order) that matches; None when it has nothing to do."""
    for rule in rules:
        if rule_matches(rule, leg):
            # First match wins even when it has nothing to do: a later rule never overrides it.
            return None if leg.code.lower() == rule.code.code_id.lower() else rule
    return None


def rule_for_leg(leg: RuleLeg) -> Rule | None:
    """The enabled rule that codes this leg: first match by ascending priority, or None."""
    if not leg.queue_id:
        return None
    rules = list(Rule.objects.filter(enabled=True, queue__queue_id=leg.queue_id).select_related("queue", "code"))
    return rule_pick(rules, leg)


def rule_notes(rule: Rule, leg: RuleLeg) -> str:
    """The rule's notes template filled in for this leg ("" without a template)."""
    if not rule.notes_template:
        return ""
    values = {
        "agent": leg.agent_name or leg.user_id, "user_id": leg.user_id, "queue": rule.queue.name,
        "queue_id": leg.queue_id, "conversation_id": leg.conversation_id, "participant_id": leg.participant_id,
        "code": rule.code.name, "rule": rule.name, "media_type": leg.media_type, "direction": leg.direction,
        "ani": address_plain(leg.ani), "dnis": address_plain(leg.dnis),
        "talk_seconds": "" if leg.talk_seconds is None else str(leg.talk_seconds),
    }  # fmt: skip
    # Only plain {key} fields pass validation; format_map on a dict cannot reach attributes.
    return rule.notes_template.format_map(values)


def template_fields(template: str) -> list[str]:
    """The replacement fields of a notes template; raises ValueError when it does not parse.

    A field with a conversion or format spec (``{agent!r}``, ``{agent:>10}``) is returned
    with it, so it is not one of ``TEMPLATE_KEYS`` and fails validation.
    """
    fields = []
    for _literal, field, spec, conversion in string.Formatter().parse(template):
        if field is None:
            continue
        fields.append(field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else ""))
    return fields


# --- building a RuleLeg ---------------------------------------------------------------------------
def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else max((end - start).total_seconds(), 0.0)


def rule_leg_from_participant(conversation: Conversation, participant: Participant) -> RuleLeg:
    """From ``GET /api/v2/conversations/{id}``: the event path's read-back of the leg.

    ANI/DNIS come from the leg itself, else from the customer's (or external) participant;
    talk time is connected -> disconnected over the leg's communications (hold included).
    """
    comms = participant.communications
    last = comms[-1] if comms else None
    other = next((p for p in conversation.participants if p.purpose in ("customer", "external") and (p.ani or p.dnis)), None)
    spans = [_seconds(c.connected_time, c.disconnected_time) for c in comms]
    talked = [s for s in spans if s is not None]
    code = participant.wrapup.code if participant.wrapup else ""
    return RuleLeg(
        queue_id=participant.queue_id or "",
        media_type=MEDIA_OF_LIST.get(last.media, last.media) if last else "",
        direction=(next((c.direction for c in comms if c.direction), None) or "").lower(),
        ani=participant.ani or (other.ani if other else "") or "",
        dnis=participant.dnis or (other.dnis if other else "") or "",
        user_id=participant.user_id or "",
        team_id=participant.team_id or "",
        talk_seconds=round(sum(talked)) if talked else None,
        disconnect_type=(next((c.disconnect_type for c in reversed(comms) if c.disconnect_type), None) or "").lower(),
        code=code,
        conversation_id=conversation.id,
        participant_id=participant.id,
        agent_name=participant.name or "",
    )


def rule_leg_from_analytics(conversation: AnalyticsConversation, participant: AnalyticsParticipant) -> RuleLeg:
    """From analytics conversation details: the poller's and the dry run's view of the leg.

    Talk time runs from the first interact (or hold) segment's start to the last one's end;
    unknown (None) while one is still open.
    """
    sessions = participant.sessions
    segments = [s for sess in sessions for s in sess.segments if s.segment_type in TALK_SEGMENTS]
    talk = None
    if segments and all(s.segment_end is not None for s in segments):
        starts = [s.segment_start for s in segments if s.segment_start is not None]
        talk = _seconds(min(starts), max(s.segment_end for s in segments if s.segment_end)) if starts else None
    disconnects = [s.disconnect_type for sess in sessions for s in sess.segments if s.disconnect_type]
    first = sessions[0] if sessions else None
    return RuleLeg(
        queue_id=next(iter(sorted(participant.queue_ids)), ""),
        media_type=(first.media_type if first else "") or "",
        direction=((first.direction if first else None) or conversation.originating_direction or "").lower(),
        ani=next((s.ani for s in sessions if s.ani), ""),
        dnis=next((s.dnis for s in sessions if s.dnis), ""),
        user_id=participant.user_id or "",
        team_id=participant.team_id or "",
        talk_seconds=None if talk is None else round(talk),
        disconnect_type=(disconnects[-1] if disconnects else "").lower(),
        code=str(participant.wrap_up_code or ""),
        conversation_id=conversation.conversation_id,
        participant_id=participant.participant_id,
        agent_name=participant.participant_name or "",
    )
