"""The live contact centre: arrivals, talk, transfers, ACW, agents wrapping or timing out.

``tick(now)`` replays every arrival and timer due up to ``now`` in time order, so the same
code runs from the background thread (live mode), from a clock advance (tests), and for
the warm-up that puts agents in ACW the moment a demo starts. Every few simulated minutes it
also sweeps out conversations that ended longer ago than the retention (``history_hours``).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from .clock import Clock
from .lifecycle import disconnect_leg, end_acw, end_customer, process_timer, save_code
from .model import Conversation, Leg
from .store import Store
from .traffic import TrafficFactory

TICK_SECONDS = 0.2
WARM_UP_SECONDS = 900.0
TRANSFER_RATE = 0.15
SWEEP_SECONDS = 300.0  # simulated time between two eviction sweeps


class Simulator:
    """Drives conversations along the state machine; only the live mode creates new ones."""

    def __init__(self, store: Store, factory: TrafficFactory, clock: Clock, *, speed: float, live: bool,
                 retention: Callable[[], float] = lambda: 0.0) -> None:
        self.store, self.factory, self.clock = store, factory, clock
        self.retention = retention  # seconds an ended conversation is kept (0: for ever), read at each sweep
        self.next_sweep = clock.now() + SWEEP_SECONDS
        self.speed = max(0.01, speed)
        self.live = live
        self.rng = random.Random(factory.rng.random())
        self.active: dict[str, Leg] = {}  # agent id → latest leg; the agent is busy unless it is done
        self.next_arrival: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # ~1 arrival per 400 agent-seconds keeps a third of the agents busy at any speed.
        self.rate = max(1, len(store.org.agents)) / 400.0

    # -- driving ----------------------------------------------------------------------
    def warm_up(self) -> None:
        """Simulate the last 15 minutes so that a fresh demo already has legs in ACW."""
        now = self.clock.now()
        self.next_arrival = now - WARM_UP_SECONDS
        self.tick(now)

    def start(self) -> None:
        """Run ``tick`` in a daemon thread every 0.2 s (live mode only)."""
        if not self.live or self._thread is not None:
            return
        if self.next_arrival is None:
            self.next_arrival = self.clock.now()
        self._thread = threading.Thread(target=self._run, name="sandbox-simulator", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        """True while the background thread runs."""
        return self._thread is not None

    def stop(self) -> None:
        """Stop the background thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(TICK_SECONDS):
            self.tick(self.clock.now())

    def tick(self, now: float) -> None:
        """Process, in time order, every arrival and timer due by ``now``."""
        store = self.store
        while True:
            with store.lock:
                due = store.next_due()
                arrival = self.next_arrival if self.live else None
                if (due is None or due > now) and (arrival is None or arrival > now):
                    self._sweep(now)
                    return
                if arrival is not None and (due is None or arrival <= due):
                    self._arrive(arrival)
                    self.next_arrival = arrival + self.rng.expovariate(self.rate * self.speed)
                    self._sweep(arrival)
                    continue
                popped = store.pop_due(now)
                if popped is not None:
                    self._fire(*popped)
                    self._sweep(popped[3])

    def _sweep(self, t: float) -> None:
        # Also inside a long clock advance, so that a jump of days never holds them all at once.
        if t < self.next_sweep:
            return
        self.next_sweep = t + SWEEP_SECONDS
        keep = self.retention()
        if keep > 0:
            self.store.evict_ended_before(t - keep)

    # -- events -----------------------------------------------------------------------
    def register(self, leg: Leg) -> None:
        """Mark the leg's agent busy (used by control-made conversations too)."""
        self.active[leg.user_id] = leg

    def is_free(self, agent_id: str) -> bool:
        """True when the agent has no leg connected or in ACW."""
        leg = self.active.get(agent_id)
        return leg is None or leg.state == "done"

    def _arrive(self, t: float) -> None:
        org, factory = self.store.org, self.factory
        queue = self.rng.choice(list(org.queues.values()))
        free = [a for a in queue.member_ids if self.is_free(a)]
        if not free:
            return  # everybody busy: the caller hears music and we drop it
        agent = org.agents[self.rng.choice(free)]
        wait, alert = self.rng.uniform(2, 30) / self.speed, self.rng.uniform(2, 8) / self.speed
        ivr = self.rng.uniform(5, 30) / self.speed
        conv = factory.new_conversation(t - wait - alert - ivr, queue, origin="live")
        leg = factory.add_leg(conv, queue, agent, t - wait - alert, wait=wait, alert=alert)
        self.register(leg)
        self.store.add(conv)
        self.store.schedule(t + factory.talk_seconds(conv.media) / self.speed, "talk_end", conv.id, leg.pid)

    def _fire(self, kind: str, cid: str, pid: str, due: float) -> None:
        conv = self.store.get(cid)
        if conv is None:
            return
        leg = conv.leg(pid)
        if process_timer(self.store, kind, conv, leg, due) or leg is None:
            return
        if kind == "talk_end" and leg.state == "connected":
            self._talk_end(conv, leg, due)
        elif kind == "agent_wrap" and leg.state == "acw":
            queue = self.store.org.queues[leg.queue_id]
            if queue.code_ids and not (leg.wrapup and leg.prompt == "forcedTimeout"):
                code_id, name = self.factory.pick_code(queue)
                save_code(self.store, conv, leg, due, code_id, None, name=name)
        elif kind == "agent_skip" and leg.state == "acw":
            end_acw(self.store, conv, leg, due, skipped=True)

    def _talk_end(self, conv: Conversation, leg: Leg, t: float) -> None:
        org = self.store.org
        target = None
        if self.rng.random() < TRANSFER_RATE and len(conv.legs) < 3:
            queue = self.factory.other_queue(org.queues[leg.queue_id])
            free = [a for a in queue.member_ids if self.is_free(a) and a != leg.user_id]
            target = (queue, org.agents[self.rng.choice(free)]) if free else None
        enters, what, delay = self.factory.acw_plan(leg)
        disconnect_leg(self.store, conv, leg, t, disconnect_type="transfer" if target else "peer", acw=enters)
        if leg.state == "acw" and what in ("wrap", "skip"):
            self.store.schedule(t + delay / self.speed, f"agent_{what}", conv.id, leg.pid)
        if target is not None:
            queue, agent = target
            new = self.factory.add_leg(conv, queue, agent, t, wait=1.0 / self.speed, alert=3.0 / self.speed)
            self.register(new)
            self.store.schedule(t + self.factory.talk_seconds(conv.media) / self.speed, "talk_end", conv.id, new.pid)
        else:
            end_customer(conv, t)
