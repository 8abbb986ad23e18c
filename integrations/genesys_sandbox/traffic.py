"""Building conversations: the seeded history and new arrivals (live or control-made).

History is built finished, with the same rules the live state machine applies, so analytics
over the past weeks looks like what the simulator produces now.
"""

from __future__ import annotations

import random

from .config import OrgSpec
from .lifecycle import disconnect_leg, end_acw, end_customer, save_code
from .model import TIMED_PROMPTS, Agent, Conversation, Leg, Queue
from .orggen import Org, new_id
from .store import Store

MEDIA_WEIGHTS = (("voice", 50), ("chat", 15), ("email", 15), ("message", 20))
TALK_SECONDS = {"voice": (40, 600), "chat": (120, 1200), "email": (60, 600), "message": (120, 1500)}
PLACES = ["Texas", "Ohio", "Dublin", "Berlin", "Lyon", "Madrid", "Toronto", "Leeds"]


class TrafficFactory:
    """Creates conversations and legs, and decides how a simulated agent behaves in ACW."""

    def __init__(self, org: Org, rng: random.Random) -> None:
        self.org = org
        self.rng = rng
        self._media = [m for m, w in MEDIA_WEIGHTS for _ in range(w)]

    def new_id(self) -> str:
        """A reproducible UUID from this factory's generator."""
        return new_id(self.rng)

    def new_conversation(self, start: float, queue: Queue, *, media: str | None = None,
                         direction: str | None = None, origin: str = "live") -> Conversation:
        """A conversation with its customer participant and no agent leg yet."""
        rng = self.rng
        media = media or rng.choice(self._media)
        direction = direction or ("inbound" if rng.random() < 0.85 or media != "voice" else "outbound")
        number = f"+1555{rng.randint(0, 9999999):07d}"
        if media == "email":
            ani, dnis, name = f"mailto:customer{number[-5:]}@mail.example", "mailto:support@acme.example", f"customer{number[-5:]}@mail.example"
        elif media == "voice":
            ani, dnis, name = f"tel:{number}", "tel:+18005550100", f"Mobile Number, {rng.choice(PLACES)}"
        else:
            ani, dnis, name = f"tel:{number}", "tel:+18005550199", f"Guest {number[-4:]}"
        return Conversation(
            id=self.new_id(), media=media, direction=direction, division_id=queue.division_id, start=start,
            ani=ani, dnis=dnis, customer_pid=self.new_id(), customer_comm_id=self.new_id(), customer_name=name,
            legs=[], subject=f"Order {number[-6:]}" if media == "email" else None,
            message_type=rng.choice(["webmessaging", "sms", "whatsapp"]) if media == "message" else None,
            origin=origin,
        )

    def add_leg(self, conv: Conversation, queue: Queue, agent: Agent, queued: float, *,
                wait: float | None = None, alert: float | None = None) -> Leg:
        """Route the conversation through ``queue`` to ``agent``; the leg is connected at return."""
        rng = self.rng
        wait = rng.uniform(2, 40) if wait is None else wait
        alert = rng.uniform(2, 12) if alert is None else alert
        leg = Leg(pid=self.new_id(), comm_id=self.new_id(), acd_pid=self.new_id(), acd_comm_id=self.new_id(),
                  user_id=agent.id, queue_id=queue.id, queued=queued, alerted=queued + wait,
                  connected=queued + wait + alert, prompt=queue.prompt,
                  timeout_ms=queue.timeout_ms if queue.prompt in TIMED_PROMPTS else None)
        conv.legs.append(leg)
        return leg

    def talk_seconds(self, media: str) -> float:
        """How long an agent interacts with the customer."""
        low, high = TALK_SECONDS.get(media, (60, 600))
        return self.rng.uniform(low, high)

    def acw_plan(self, leg: Leg) -> tuple[bool, str, float]:
        """(enters ACW, what the agent does, after how many seconds of ACW).

        What: ``wrap`` (saves a code), ``skip`` (optional prompt, no code) or ``timeout``
        (never saves; the timer ends ACW with ``ININ-WRAP-UP-TIMEOUT``).
        """
        rng, timeout = self.rng, (leg.timeout_ms or 0) / 1000.0
        if leg.prompt == "agentRequested" and rng.random() < 0.5:
            return False, "none", 0.0
        if leg.prompt == "optional":
            return True, ("skip" if rng.random() < 0.3 else "wrap"), rng.uniform(3, 60)
        if leg.prompt == "mandatory":
            return True, "wrap", rng.uniform(5, 150)
        if rng.random() < 0.4:
            return True, "timeout", timeout
        return True, "wrap", rng.uniform(3, max(4.0, timeout * 0.9))

    def pick_code(self, queue: Queue, *, historic: bool = False) -> tuple[str, str]:
        """(id, name) of a code the agent chooses from the queue's list."""
        pool = queue.historic_code_ids if historic else queue.code_ids
        code = self.org.codes[self.rng.choice(pool)]
        return code.id, code.name

    def other_queue(self, queue: Queue) -> Queue:
        """A queue to transfer to."""
        queues = list(self.org.queues.values())
        if len(queues) == 1:
            return queue
        while True:
            other = self.rng.choice(queues)
            if other.id != queue.id:
                return other


def generate_history(store: Store, factory: TrafficFactory, spec: OrgSpec, now: float) -> None:
    """Finished conversations spread over ``spec.days`` days, ending 30 minutes before ``now``."""
    rng, org = factory.rng, factory.org
    queues = list(org.queues.values())
    if not queues:
        return
    count = spec.conversation_count()
    begin, finish = now - spec.days * 86400, now - 3600
    starts = sorted(rng.uniform(begin, finish) for _ in range(count))
    convs = []
    for start in starts:
        queue = rng.choice(queues)
        conv = factory.new_conversation(start, queue, origin="history")
        legs = 1 if rng.random() < 0.8 else (2 if rng.random() < 0.75 else 3)
        t = start + (rng.uniform(5, 60) if conv.media == "voice" else 0)  # IVR / bot time before the queue
        for n in range(legs):
            agent = org.agents[rng.choice(queue.member_ids)]
            leg = factory.add_leg(conv, queue, agent, t)
            t = (leg.connected or t) + factory.talk_seconds(conv.media)
            last = n == legs - 1
            _finish_leg(store, factory, conv, leg, queue, t, transfer=not last)
            if not last:
                queue = factory.other_queue(queue)
        end_customer(conv, t)
        convs.append(conv)
    store.add_sorted_bulk(convs)


def _finish_leg(store: Store, factory: TrafficFactory, conv: Conversation, leg: Leg, queue: Queue,
                t: float, *, transfer: bool) -> None:
    """Play a historical leg to its end without timers or events."""
    enters, what, delay = factory.acw_plan(leg)
    disconnect_leg(store, conv, leg, t, disconnect_type="transfer" if transfer else "peer", acw=enters,
                   emit=False, schedule=False)
    if leg.state != "acw":
        return
    if what == "wrap":
        code_id, name = factory.pick_code(queue, historic=True)
        notes = "Handled" if factory.rng.random() < 0.3 else None
        save_code(store, conv, leg, t + delay, code_id, notes, name=name, emit=False)
        if leg.state == "acw":  # forced time-out: ACW lasts the whole timer
            end_acw(store, conv, leg, t + (leg.timeout_ms or 0) / 1000.0, timed_out=True, emit=False)
    elif what == "skip":
        end_acw(store, conv, leg, t + delay, skipped=True, emit=False)
    else:
        end_acw(store, conv, leg, t + delay, timed_out=True, emit=False)
