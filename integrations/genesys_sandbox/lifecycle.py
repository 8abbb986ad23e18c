"""The state machine of an agent leg: connected → (ACW) → wrapped / timed out / skipped.

Every function here is called with the store lock held. Time is passed in (simulated epoch
seconds) so the same code serves history generation, the live simulator and the control
endpoint. Events are handed to ``store.emit``, which queues them for the webhook.
"""

from __future__ import annotations

from .events import ACW, USER_END, acw_payload, user_end_payload
from .model import TIMEOUT_CODE, Conversation, Leg
from .store import Store


def disconnect_leg(store: Store, conv: Conversation, leg: Leg, now: float, *,
                   disconnect_type: str = "peer", acw: bool | None = None, emit: bool = True,
                   schedule: bool = True) -> None:
    """End the interaction of a leg; enter ACW unless the prompt needs a request that did not come.

    ``acw`` forces the choice for agent-requested prompts (``None`` = no request).
    """
    if leg.ended is not None:
        return
    if leg.connected is None:
        leg.connected = now
    leg.ended = now
    leg.disconnect_type = disconnect_type
    if leg.prompt == "agentRequested" and not acw:
        leg.wrapup_required = False  # no ACW: the leg is over, with no code
    else:
        leg.wrapup_required = True
        leg.acw_start = now
        if schedule and leg.prompt in ("timeout", "forcedTimeout", "agentRequested") and leg.timeout_ms:
            store.schedule(now + leg.timeout_ms / 1000.0, "acw_timeout", conv.id, leg.pid)
    if emit:
        store.emit(USER_END, user_end_payload(conv, leg, conv.division_id))
    maybe_end_conversation(conv, now)


def save_code(store: Store, conv: Conversation, leg: Leg, now: float, code_id: str, notes: str | None,
              *, name: str, tags: list[str] | None = None, emit: bool = True) -> None:
    """Save a code on a leg. During ACW this completes ACW, except with a forced time-out,
    where ACW lasts until its timer and the last saved code wins."""
    in_acw = leg.state == "acw"
    start = leg.acw_start if leg.acw_start is not None else now
    leg.wrapup = {"code": code_id, "name": name, "notes": notes, "tags": list(tags or []),
                  "durationSeconds": int(max(0.0, now - start)), "endTime": now, "provisional": False}
    leg.skipped = False
    leg.history.append((now, code_id, notes))
    if in_acw and leg.prompt != "forcedTimeout":
        end_acw(store, conv, leg, now, emit=emit)


def end_acw(store: Store, conv: Conversation, leg: Leg, now: float, *, timed_out: bool = False,
            skipped: bool = False, emit: bool = True) -> None:
    """Close ACW: on a time-out with no code saved the code becomes ``ININ-WRAP-UP-TIMEOUT``."""
    if leg.state != "acw":
        return
    leg.acw_end = now
    if skipped:
        leg.skipped = True
    elif timed_out and leg.wrapup is None:
        leg.wrapup = {"code": TIMEOUT_CODE, "name": TIMEOUT_CODE, "notes": None, "tags": [],
                      "durationSeconds": int(now - (leg.acw_start or now)), "endTime": now, "provisional": False}
        leg.history.append((now, TIMEOUT_CODE, None))
    if leg.wrapup is not None:
        leg.wrapup["durationSeconds"] = int(now - (leg.acw_start or now))
        leg.wrapup["endTime"] = now
    if emit:
        store.emit(ACW, acw_payload(conv, leg))
    maybe_end_conversation(conv, now)


def end_customer(conv: Conversation, now: float) -> None:
    """The customer side is gone (it normally leaves with the last agent leg)."""
    if conv.customer_end is None:
        conv.customer_end = now
    maybe_end_conversation(conv, now)


def maybe_end_conversation(conv: Conversation, now: float) -> None:
    """A conversation ends once the customer has left and every agent leg is done, ACW included."""
    if conv.end is not None or conv.customer_end is None:
        return
    if all(leg.state == "done" for leg in conv.legs):
        finals = [conv.customer_end] + [leg.acw_end or leg.ended or now for leg in conv.legs]
        conv.end = max(finals)


def process_timer(store: Store, kind: str, conv: Conversation, leg: Leg | None, due: float) -> bool:
    """Timers owned by the state machine itself; the simulator handles its own kinds."""
    if kind == "acw_timeout" and leg is not None and leg.state == "acw":
        if leg.acw_start is not None and leg.timeout_ms and due + 1e-6 >= leg.acw_start + leg.timeout_ms / 1000:
            end_acw(store, conv, leg, due, timed_out=True)
        return True
    return kind == "acw_timeout"
