"""Read the catalog from Genesys into a snapshot, with no database writes.

The sync reads everything first and writes after, in one transaction, so a failure while
reading (a 401, a network outage) leaves the portal's copy exactly as it was, and no
transaction is ever held open across HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from integrations.genesys import GenesysClient, NotFoundError, Queue, WrapupCode

# Queue-code pages are read in parallel; the client paces all threads under the quota.
READ_THREADS = 4


@dataclass(frozen=True)
class CodeInfo:
    code_id: str
    name: str
    description: str = ""
    division_id: str = ""
    division_name: str = ""


@dataclass(frozen=True)
class QueueInfo:
    queue_id: str
    name: str
    division_id: str = ""
    division_name: str = ""
    wrapup_prompt: str = ""
    acw_timeout_ms: int | None = None


@dataclass
class CatalogSnapshot:
    """What Genesys holds now: every queue, the org-wide codes, and the codes of the queues read."""

    queues: dict[str, QueueInfo] = field(default_factory=dict)
    codes: dict[str, CodeInfo] = field(default_factory=dict)
    # queue id -> {code id: name}, only for the queues whose codes were read.
    members: dict[str, dict[str, str]] = field(default_factory=dict)
    # Queues listed at first but gone when their codes were read (deleted during the run).
    vanished: set[str] = field(default_factory=set)


def _code_info(code: WrapupCode) -> CodeInfo:
    division = code.division
    return CodeInfo(
        code_id=code.id,
        name=code.name,
        description=code.description or "",
        division_id=division.id if division else "",
        division_name=(division.name or "") if division else "",
    )


def _queue_info(queue: Queue) -> QueueInfo:
    division, acw = queue.division, queue.acw_settings
    return QueueInfo(
        queue_id=queue.id,
        name=queue.name,
        division_id=division.id if division else "",
        division_name=(division.name or "") if division else "",
        wrapup_prompt=(acw.wrapup_prompt or "") if acw else "",
        acw_timeout_ms=acw.timeout_ms if acw else None,
    )


def snapshot_read(
    *,
    client: GenesysClient,
    queue_ids: Callable[[Iterable[str]], list[str]],
    on_progress: Callable[[str, int, int], None],
) -> CatalogSnapshot:
    """Read queues, the org-wide codes and the codes of the queues chosen by `queue_ids`.

    `queue_ids` receives every queue id in Genesys and returns those whose codes to read;
    `on_progress(phase, done, total)` is called as the reading advances.
    """
    snapshot = CatalogSnapshot()
    on_progress("Reading queues", 0, 0)
    for queue in client.iter_queues():
        snapshot.queues[queue.id] = _queue_info(queue)
    on_progress("Reading the wrap-up code catalog", 0, 0)
    for code in client.iter_wrapup_codes():
        snapshot.codes[code.id] = _code_info(code)

    chosen = queue_ids(snapshot.queues)
    on_progress("Reading each queue's codes", 0, len(chosen))

    def read_queue(queue_id: str) -> tuple[str, dict[str, str] | None]:
        try:
            return queue_id, {code.id: code.name for code in client.iter_queue_wrapup_codes(queue_id)}
        except NotFoundError:
            return queue_id, None

    with ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="catalog-sync") as pool:
        for done, (queue_id, members) in enumerate(pool.map(read_queue, chosen), start=1):
            if members is None:
                snapshot.vanished.add(queue_id)
            else:
                snapshot.members[queue_id] = members
            if done % 10 == 0 or done == len(chosen):
                on_progress("Reading each queue's codes", done, len(chosen))
    for queue_id in snapshot.vanished:
        snapshot.queues.pop(queue_id, None)
    return snapshot
