"""CSV export of a search: the columns the table shows, streamed page by page from Genesys."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.utils import timezone

from integrations.genesys import GenesysError

from wrapup_portal.audit.csv_cells import csv_cell_escape
from wrapup_portal.interactions.search import Search
from wrapup_portal.interactions.selectors import EXPORT_MAX_PAGES, LegRow, interaction_search_all

HEADER = ("conversation_id", "participant_id", "conversation_start", "leg_start", "duration_seconds", "queue_id",
          "queue", "user_id", "agent", "media_type", "direction", "wrapup_code", "wrapup_code_name", "state")  # fmt: skip
TRUNCATED = f"# stopped after {EXPORT_MAX_PAGES} pages of Genesys results; narrow the range to export the rest"


def _row(row: LegRow) -> tuple[object, ...]:
    local = timezone.localtime
    return (row.conversation_id, row.participant_id, local(row.conversation_start).isoformat(),
            local(row.leg_start).isoformat() if row.leg_start else "", row.duration_seconds if row.duration_seconds is not None else "",
            row.queue_id, row.queue_name, row.user_id, row.agent_name, row.media_type, row.direction,
            row.wrapup_code, row.code_name, row.state)  # fmt: skip


def search_csv_stream(search: Search | None) -> Iterator[str]:
    """Header, then one line per agent leg; ``search`` None (no queues of the user's) is just the header.

    Cells that a spreadsheet would run as a formula are neutralised (``csv_cell_escape``).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(HEADER)
    yield flush()
    if search is None:
        return
    try:
        for row in interaction_search_all(search=search):
            if row is None:
                writer.writerow((TRUNCATED,))
            else:
                writer.writerow([csv_cell_escape(value) for value in _row(row)])
            yield flush()
    except GenesysError as error:
        # The download has begun: all that can be done is to say, in the file, that it is incomplete.
        writer.writerow((csv_cell_escape(f"# export incomplete: Genesys failed: {error}"),))
        yield flush()
