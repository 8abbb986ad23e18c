"""A refused request is one line in the log (and an audit event), not a traceback."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from wrapup_portal.audit.models import Action, AuditEvent

pytestmark = pytest.mark.django_db


@contextmanager
def console() -> Iterator[io.StringIO]:
    """What the console shows: the console handlers a django.request record reaches, into one buffer.

    Exactly `StreamHandler`: pytest's own capture handlers are subclasses and are left alone.
    """
    buffer = io.StringIO()
    handlers, logger = [], logging.getLogger("django.request")
    while logger is not None:
        handlers += [h for h in logger.handlers if type(h) is logging.StreamHandler]
        logger = logger.parent if logger.propagate else None
    old = [handler.setStream(buffer) for handler in handlers]
    try:
        yield buffer
    finally:
        for handler, stream in zip(handlers, old):
            handler.setStream(stream)


@pytest.mark.parametrize("debug", [False, True], ids=["production", "demo (DEBUG on)"])
def test_refused_request_is_one_warning_line_without_traceback(lead, client_for, settings, debug: bool) -> None:
    settings.DEBUG = debug
    client = client_for(lead)
    with console() as shown:
        response = client.get("/system/")
    assert response.status_code == 403
    lines = shown.getvalue().splitlines()
    assert len(lines) == 1, shown.getvalue()
    assert "WARNING django.request Forbidden (Permission denied): /system/" in lines[0]
    assert "Traceback" not in shown.getvalue()
    assert AuditEvent.objects.filter(action=Action.PERMISSION_DENIED, target_id="/system/").count() == 1


def test_refused_request_log_record_carries_no_exception(lead, client_for, caplog) -> None:
    client = client_for(lead)
    with caplog.at_level(logging.INFO, logger="django"):
        client.get("/system/")
        client.get("/no-such-page/")
    records = [r for r in caplog.records if r.name == "django.request"]
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.WARNING, "Forbidden (Permission denied): /system/"),
        (logging.WARNING, "Not Found: /no-such-page/"),
    ]
    assert all(r.exc_info is None for r in records)
    assert "Traceback" not in caplog.text
