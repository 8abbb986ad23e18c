"""What a search asks for, independent of where it came from (the page's form or the CLI).

A ``Search`` turns into one Genesys analytics query per page and a leg-level filter; the
page and ``find_interactions`` share it, so they cannot disagree about which legs match.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from integrations.genesys import AnalyticsParticipant, ConversationQuery, SystemWrapupCode, WrapupCodeId
from integrations.genesys.analytics import WRAP_UP_TIMEOUT

PAGE_SIZE = 100  # conversations per Genesys page; one page of results costs one call


class WrapupState:
    """The wrap-up filter's values (the contract's ``--wrapup``)."""

    ANY = "any"
    NONE = "none"  # ACW begun or over, and no code at all
    TIMEOUT = "timeout"  # ININ-WRAP-UP-TIMEOUT
    SYSTEM = "system"  # any ININ-* literal
    CODED = "coded"  # a real code
    CODE = "code"  # one given code
    ACW = "acw"  # in after-call work right now, no code yet: what a bulk assignment is for

    CHOICES = (
        (ANY, "Any"),
        (NONE, "No code"),
        (ACW, "In after-call work now, no code yet"),
        (TIMEOUT, "Timed out (ININ-WRAP-UP-TIMEOUT)"),
        (SYSTEM, "Any system code (ININ-…)"),
        (CODED, "Any real code"),
        (CODE, "A specific code"),
    )


@dataclass(frozen=True)
class Search:
    """One search: an interval and filters. ``queue_ids`` empty means every allowed queue."""

    start: datetime
    end: datetime
    queue_ids: tuple[str, ...] = ()
    user_ids: tuple[str, ...] = ()
    wrapup: str = WrapupState.ANY
    code_id: str | None = None
    media_types: tuple[str, ...] = ()
    direction: str | None = None
    ani: str | None = None
    dnis: str | None = None
    conversation_id: str | None = None

    def scoped(self, allowed: set[str] | None) -> Search | None:
        """This search limited to the queues a user may see; None when that leaves none.

        ``allowed`` None means every queue (admins). A lead who names no queue searches all
        of theirs; queues they were not granted are dropped, never searched.
        """
        if allowed is None:
            return self
        queues = tuple(q for q in self.queue_ids if q in allowed) if self.queue_ids else tuple(sorted(allowed))
        return dataclasses.replace(self, queue_ids=queues) if queues else None

    def query(self, page_number: int = 1) -> ConversationQuery:
        """The Genesys analytics query for one page of this search."""
        codes: tuple[str, ...] = ()
        acw = self.wrapup == WrapupState.ACW  # the live board's question: conversations not ended yet
        if self.wrapup == WrapupState.TIMEOUT:
            codes = (WRAP_UP_TIMEOUT,)
        elif self.wrapup == WrapupState.CODE and self.code_id:
            codes = (self.code_id,)
        return ConversationQuery(
            start=self.start,
            end=self.end,
            conversation_id=self.conversation_id,
            queue_ids=self.queue_ids,
            user_ids=self.user_ids,
            wrapup_codes=codes,
            wrapup_code_missing=self.wrapup in (WrapupState.NONE, WrapupState.ACW),
            ended_only=not acw,
            acw_open=acw,
            wrapup_code_present=self.wrapup in (WrapupState.SYSTEM, WrapupState.CODED),
            media_types=self.media_types,
            direction=self.direction,
            ani=self.ani,
            dnis=self.dnis,
            page_size=PAGE_SIZE,
            page_number=page_number,
        )

    def keeps(self, leg: AnalyticsParticipant) -> bool:
        """The leg filter beyond what the query itself decides (system vs. real codes)."""
        code = leg.wrap_up_code
        if self.wrapup == WrapupState.SYSTEM:
            return isinstance(code, SystemWrapupCode)
        if self.wrapup == WrapupState.CODED:
            return isinstance(code, WrapupCodeId)
        return True
