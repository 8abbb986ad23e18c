"""Logging filters named in settings.LOGGING."""

from __future__ import annotations

import logging


class RefusalWithoutTraceback(logging.Filter):
    """A refused request (any 4xx) is one line: drop the traceback Django attaches to it.

    Django logs a 403 or 404 with the PermissionDenied / Http404 exception as `exc_info`, so the
    console showed a full traceback for what is an ordinary answer (and the refusal is in the
    audit log already). Server errors (5xx) keep theirs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
