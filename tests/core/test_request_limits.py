"""Oversized requests are refused early and say why: a form body past DATA_UPLOAD_MAX_MEMORY_SIZE,
and a CSV upload past PORTAL_UPLOAD_MAX_BYTES (skipped while it streams in, never stored).
The event hook's own body limit is tested in tests/assignments/test_hook_limits.py."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from wrapup_portal.assignments.forms import FILE_TOO_BIG
from wrapup_portal.assignments.models import Assignment, BulkJob
from wrapup_portal.assignments.views import UPLOADS_SESSION_KEY
from wrapup_portal.audit.models import AuditEvent
from wrapup_portal.core import uploads

pytestmark = pytest.mark.django_db

HEADER = b"conversation_id,participant_id,code,notes\n"


@pytest.fixture
def lead_client(lead, client_for):
    return client_for(lead)


def test_a_form_body_past_the_limit_is_a_400_that_says_so(lead_client) -> None:
    events_before = AuditEvent.objects.count()
    response = lead_client.post("/assignments/bulk/preview/", {"notes": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})

    assert response.status_code == 400
    assert b"larger than a form may be" in response.content
    assert not Assignment.objects.exists() and not BulkJob.objects.exists()
    assert AuditEvent.objects.count() == events_before


def test_too_many_fields_is_a_400(lead_client) -> None:
    data = {f"f{i}": "1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    assert lead_client.post("/assignments/bulk/preview/", data).status_code == 400


def test_a_csv_past_the_limit_is_skipped_while_it_streams_and_the_form_says_why(lead_client, monkeypatch) -> None:
    stored: list[int] = []
    real = uploads.SizeLimitedUploadHandler.receive_data_chunk

    def spy(self, raw_data: bytes, start: int) -> bytes:
        result = real(self, raw_data, start)
        stored.append(len(raw_data))  # passed on to the handler that stores the file
        return result

    monkeypatch.setattr(uploads.SizeLimitedUploadHandler, "receive_data_chunk", spy)
    big = HEADER + b"x" * (settings.PORTAL_UPLOAD_MAX_BYTES * 3)

    response = lead_client.post("/assignments/upload/", {"file": SimpleUploadedFile("big.csv", big, "text/csv")})

    assert response.status_code == 200
    assert response.context["form"].errors["file"] == [FILE_TOO_BIG]
    assert FILE_TOO_BIG in response.content.decode()
    assert sum(stored) <= settings.PORTAL_UPLOAD_MAX_BYTES  # never more than the limit was kept
    assert UPLOADS_SESSION_KEY not in lead_client.session
    assert not Assignment.objects.exists()


def test_a_csv_just_under_the_limit_is_read(lead_client) -> None:
    body = HEADER + b"a,b,c,\n" * ((settings.PORTAL_UPLOAD_MAX_BYTES - len(HEADER) - 100) // 7)
    response = lead_client.post("/assignments/upload/", {"file": SimpleUploadedFile("ok.csv", body, "text/csv")})
    assert response.status_code == 200
    assert FILE_TOO_BIG not in str(response.context["form"].errors)  # read and judged row by row instead
