"""Test affordances on the state machine: make a conversation in a chosen state, move it on.

``state`` applies to every agent leg: ``connected``; ``acw`` (legs just entered ACW);
``wrapped`` (ACW over with a code, the customer still in a post-call survey so the
conversation is still active); ``ended`` (conversation over).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .lifecycle import disconnect_leg, end_acw, end_customer, save_code
from .model import TIMEOUT_CODE, Conversation, Leg
from .web import ApiError

if TYPE_CHECKING:
    from .app import SandboxApp

STATES = ("connected", "acw", "wrapped", "ended")
TARGETS = ("acw", "wrapped", "timeout", "skip", "ended")
MEDIA = ("voice", "chat", "email", "message")


def _bad(message: str) -> ApiError:
    return ApiError(400, message)


def create_conversation(app: SandboxApp, spec: dict[str, Any]) -> Conversation:
    """Build a conversation per ``spec`` (see module doc) and return it, indexed."""
    org, sim = app.store.org, app.simulator
    state = spec.get("state", "connected")
    if state not in STATES:
        raise _bad(f"state must be one of {', '.join(STATES)}")
    media = spec.get("mediaType", "voice")
    if media not in MEDIA:
        raise _bad(f"mediaType must be one of {', '.join(MEDIA)}")
    count = spec.get("agents", 1)
    if not isinstance(count, int) or not 1 <= count <= 3:
        raise _bad("agents must be 1, 2 or 3")
    queue_ids = spec.get("queueIds") or [spec.get("queueId") or next(iter(org.queues))] * count
    if len(queue_ids) != count or any(q not in org.queues for q in queue_ids):
        raise _bad("unknown queueId")
    user_ids = spec.get("userIds") or ([spec["userId"]] if spec.get("userId") else [])
    if any(u not in org.agents for u in user_ids):
        raise _bad("unknown userId")
    now = app.clock.now()
    ago = float(spec.get("startedSecondsAgo", 300))
    start = now - max(ago, 30.0 * count + 60)
    factory = app.factory
    conv = factory.new_conversation(start, org.queues[queue_ids[0]], media=media,
                                    direction=spec.get("direction"), origin="control")
    conv.external_tag = spec.get("externalTag")
    for i, queue_id in enumerate(queue_ids):
        queue = org.queues[queue_id]
        user_id = user_ids[i] if i < len(user_ids) else _free_member(app, queue.member_ids, conv)
        leg = factory.add_leg(conv, queue, org.agents[user_id], start + 10 + 20 * i, wait=5, alert=5)
        sim.register(leg)
    app.store.add(conv)
    if state == "connected":
        return conv
    ended = now if state == "acw" else now - 30
    for i, leg in enumerate(conv.legs):
        last = i == len(conv.legs) - 1
        disconnect_leg(app.store, conv, leg, ended, disconnect_type="peer" if last else "transfer", acw=True)
    if state == "acw":
        end_customer(conv, ended)
        return conv
    for leg in conv.legs:
        _wrap(app, conv, leg, now, spec.get("wrapupCode"), spec.get("notes"))
    if state == "ended":
        end_customer(conv, now)
    return conv


def _free_member(app: SandboxApp, members: list[str], conv: Conversation) -> str:
    taken = {leg.user_id for leg in conv.legs}
    for user_id in members:
        if user_id not in taken and app.simulator.is_free(user_id):
            return user_id
    for user_id in members:  # everybody busy: take someone anyway (tests need a leg)
        if user_id not in taken:
            return user_id
    return members[0]


def _wrap(app: SandboxApp, conv: Conversation, leg: Leg, now: float, code: Any, notes: Any) -> None:
    """Finish ACW with ``code`` (default: the queue's first code; ININ-WRAP-UP-TIMEOUT; "none" skips)."""
    queue = app.store.org.queues[leg.queue_id]
    if leg.state == "connected":
        disconnect_leg(app.store, conv, leg, now, acw=True)
    if leg.state != "acw":
        return
    if code == TIMEOUT_CODE:
        end_acw(app.store, conv, leg, now, timed_out=True)
        return
    if code == "none":
        end_acw(app.store, conv, leg, now, skipped=True)
        return
    code = code or (queue.code_ids[0] if queue.code_ids else None)
    if code not in queue.code_ids:
        raise _bad(f"wrapupCode {code} is not offered by queue {queue.id}")
    save_code(app.store, conv, leg, now, code, notes, name=app.store.org.codes[code].name)
    end_acw(app.store, conv, leg, now)  # forced time-out: a test "wrapped" means ACW is over


def advance(app: SandboxApp, conv: Conversation, spec: dict[str, Any]) -> Conversation:
    """Move one leg (``participantId``) or every unfinished leg one step, or to ``to``."""
    to = spec.get("to")
    if to is not None and to not in TARGETS:
        raise _bad(f"to must be one of {', '.join(TARGETS)}")
    pid = spec.get("participantId")
    legs = [conv.leg(pid)] if pid else [leg for leg in conv.legs if leg.state != "done"]
    if pid and legs[0] is None:
        raise ApiError(404, f"no agent participant {pid}")
    now = app.clock.now()
    store = app.store
    was_live = any(leg.ended is None for leg in conv.legs)
    for leg in legs:
        assert leg is not None
        target = to or ("acw" if leg.state == "connected" else "wrapped")
        if leg.state == "connected":
            disconnect_leg(store, conv, leg, now, acw=True)
        if target == "acw" or leg.state != "acw":
            continue
        if target == "wrapped":
            _wrap(app, conv, leg, now, spec.get("wrapupCode"), spec.get("notes"))
        elif target == "skip":
            end_acw(store, conv, leg, now, skipped=True)
        else:  # timeout, ended
            end_acw(store, conv, leg, now, timed_out=True)
    # The customer leaves with the last agent; a conversation created "wrapped" keeps its
    # customer (post-call survey) until it is moved to "ended".
    if conv.customer_end is None and all(leg.ended is not None for leg in conv.legs) and (was_live or to == "ended"):
        end_customer(conv, now)
    return conv
