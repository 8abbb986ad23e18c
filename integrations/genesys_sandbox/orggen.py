"""Deterministic organisation and history, generated from a seed.

The same seed always gives the same ids, names, queue settings and history; only the
timestamps move with the moment the sandbox starts (history ends "now").
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

from .config import OrgSpec
from .model import Agent, Division, Queue, WrapupCode

ORG_NAME = "Acme Contact Center"
DIVISION_NAMES = ["Home", "Customer Care", "Sales", "Back Office", "Collections", "Partners"]
QUEUE_NAMES = [
    "Support EN", "Billing", "Sales Inbound", "Technical L2", "Retention", "Email Desk",
    "Chat Care", "Collections", "Support FR", "Partners Desk", "Claims", "VIP Line",
]
# Five prompts, cycled so that any 5+ queues cover them all; timeouts only where allowed.
ACW_PLAN = [
    ("MANDATORY_TIMEOUT", 60000), ("MANDATORY", None), ("OPTIONAL", None),
    ("MANDATORY_FORCED_TIMEOUT", 45000), ("AGENT_REQUESTED", 90000), ("MANDATORY_TIMEOUT", 120000),
    ("MANDATORY", None), ("MANDATORY_TIMEOUT", 30000),
]
TOPICS = ["General", "Billing", "Technical", "Sales", "Account", "Delivery", "Returns", "Complaint",
          "Claims", "Retention", "Payments", "Onboarding"]
OUTCOMES = ["Resolved", "Escalated", "Callback Promised", "Information Given", "Transferred",
            "No Answer Needed", "Follow-up Required", "Refund Issued"]
FIRST = ["Jane", "Omar", "Li", "Priya", "Carlos", "Anna", "Tom", "Fatima", "Yuki", "Sam", "Noor",
         "Lucas", "Ines", "Kofi", "Maria", "Ivan", "Chloe", "Ravi", "Eva", "Malik"]
LAST = ["Agent", "Martin", "Chen", "Patel", "Garcia", "Novak", "Okafor", "Smith", "Tanaka", "Haddad",
        "Silva", "Berg", "Dubois", "Kowalski", "Mensah", "Rossi"]


def new_id(rng: random.Random) -> str:
    """A UUID4 drawn from ``rng`` so that ids are reproducible."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclass
class Org:
    """The organisation: ids and settings, no traffic."""

    id: str
    name: str
    divisions: dict[str, Division]
    codes: dict[str, WrapupCode]
    queues: dict[str, Queue]
    agents: dict[str, Agent]
    admin_id: str

    @property
    def home(self) -> Division:
        """The first division, named "Home" as in every Genesys org."""
        return next(iter(self.divisions.values()))


def build_org(spec: OrgSpec, seed: int, now: float) -> Org:
    """Build divisions, codes, queues (with their code lists and members) and agents."""
    rng = random.Random(f"org:{seed}")
    org_id, admin_id = new_id(rng), new_id(rng)
    divisions = {}
    for i in range(max(1, spec.divisions)):
        name = DIVISION_NAMES[i] if i < len(DIVISION_NAMES) else f"Division {i + 1}"
        div = Division(new_id(rng), name)
        divisions[div.id] = div
    div_ids = list(divisions)

    codes: dict[str, WrapupCode] = {}
    names = _code_names(spec.codes)
    for i, name in enumerate(names):
        created = now - 86400 * rng.randint(60, 400)
        code = WrapupCode(new_id(rng), name, div_ids[i % len(div_ids)] if i >= 3 else div_ids[0],
                          f"{name} (demo code)", created, created + 86400 * rng.randint(0, 50), admin_id)
        codes[code.id] = code
    # Deleted codes come last so that the active catalogue keeps the readable first names.
    for code in list(codes.values())[len(codes) - spec.deleted_count():]:
        code.deleted = True

    agents: dict[str, Agent] = {}
    teams = [new_id(rng) for _ in range(max(1, spec.agents // 10))]
    for i in range(spec.agents):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 7 + i // len(FIRST)) % len(LAST)]
        suffix = "" if i < len(FIRST) else f" {i // len(FIRST) + 1}"
        name = f"{first} {last}{suffix}"
        email = f"{first}.{last}{suffix.strip()}@acme.example".lower()
        agents[new_id(rng)] = Agent("", name, email, div_ids[0], teams[i % len(teams)])
    agents = {aid: _with_id(agent, aid) for aid, agent in agents.items()}

    queues: dict[str, Queue] = {}
    all_codes = list(codes.values())
    generic = [c.id for c in all_codes[:3]]  # "General - …" codes are offered everywhere: overlaps
    agent_ids = list(agents)
    for i in range(spec.queues):
        prompt, timeout = ACW_PLAN[i % len(ACW_PLAN)]
        name = QUEUE_NAMES[i] if i < len(QUEUE_NAMES) else f"Queue {i + 1:04d}"
        picked = rng.sample(all_codes[3:], k=min(len(all_codes) - 3, rng.randint(*spec.codes_per_queue))) if len(all_codes) > 3 else []
        historic = generic + [c.id for c in picked]
        members = rng.sample(agent_ids, k=min(len(agent_ids), max(3, len(agent_ids) // 3))) if agent_ids else []
        created = now - 86400 * rng.randint(200, 800)
        queue = Queue(new_id(rng), name, div_ids[i % len(div_ids)], f"{name} queue", prompt, timeout,
                      [c for c in historic if not codes[c].deleted], historic, members, created, admin_id)
        queues[queue.id] = queue
        for member in members:
            agents[member].queue_ids.append(queue.id)
    # Every agent must be able to take calls somewhere.
    queue_list = list(queues.values())
    for n, agent in enumerate(agents.values()):
        if not agent.queue_ids and queue_list:
            queue = queue_list[n % len(queue_list)]
            queue.member_ids.append(agent.id)
            agent.queue_ids.append(queue.id)
    return Org(org_id, ORG_NAME, divisions, codes, queues, agents, admin_id)


def _with_id(agent: Agent, agent_id: str) -> Agent:
    agent.id = agent_id
    return agent


def _code_names(count: int) -> list[str]:
    """Readable, unique code names: "General - Resolved", "Billing - Escalated", …"""
    names = []
    for i in range(count):
        topic = TOPICS[(i // len(OUTCOMES)) % len(TOPICS)] if i >= 3 else "General"
        outcome = OUTCOMES[i % len(OUTCOMES)]
        cycle = i // (len(OUTCOMES) * len(TOPICS))
        names.append(f"{topic} - {outcome}" + (f" {cycle + 1}" if cycle else ""))
    return names
