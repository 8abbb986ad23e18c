"""Object-level access: what a team lead reaches follows the queues granted to them, also through
hand-edited ids and query strings. "Mine" is a lead granted queue A; "theirs" a lead granted queue B.

Every refusal changes nothing: no assignment, no job, no write to Genesys, no audit event beyond
the refusal's own.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from wrapup_portal.assignments.models import Assignment, BulkJob, State
from wrapup_portal.assignments.services import QUEUE_NOT_GRANTED, Verdict
from wrapup_portal.audit.models import AuditEvent

from tests.interactions.conftest import sandbox_now

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_queueing")]

HEADER = "conversation_id,participant_id,code,notes\n"


@pytest.fixture
def two_leads(legs: Any, make_user: Any, grant: Any, client_for: Any) -> tuple[Client, Client]:
    mine, theirs = make_user("lead-a", "Team lead"), make_user("lead-b", "Team lead")
    grant(mine, [legs.queue["id"]])
    grant(theirs, [legs.other["id"]])
    return client_for(mine), client_for(theirs)


def state(sandbox: Any) -> tuple[int, int, int, int]:
    """What a refusal must leave as it was: assignments, jobs, Genesys writes, and audit events
    other than refusals (``auth.permission_denied``)."""
    audited = AuditEvent.objects.exclude(action="auth.permission_denied").count()
    return Assignment.objects.count(), BulkJob.objects.count(), sum(sandbox.stats()["writes"].values()), audited


def bulk_job(client: Client, selected: list[tuple[str, str]], code: str) -> BulkJob:
    form = {"leg": [f"{c}/{p}" for c, p in selected], "code": code}
    review = client.post("/assignments/bulk/preview/", form).context["review"]
    assert client.post("/assignments/bulk/confirm/", {**form, "digest": review.digest}).status_code == 302
    return BulkJob.objects.order_by("-pk").first()


def test_a_conversation_on_another_queue_is_not_found(legs: Any, two_leads: tuple[Client, Client]) -> None:
    mine, theirs = two_leads
    cid, _ = legs()

    assert mine.get(f"/interactions/{cid}/").status_code == 200
    assert theirs.get(f"/interactions/{cid}/").status_code == 404
    assert theirs.get(f"/interactions/{cid.upper()}/").status_code == 404  # the id's spelling changes nothing
    jump = theirs.get("/interactions/", {"conversation": cid})  # the search's "exact id" box: the same check
    assert theirs.get(jump["Location"]).status_code == 404


def test_a_search_or_export_naming_a_queue_not_granted_is_refused(legs: Any, two_leads: tuple[Client, Client]) -> None:
    _, theirs = two_leads
    before = len(legs.sandbox.requests())

    search = theirs.get("/interactions/", {"queue": legs.queue["id"], "preset": "today"})
    export = theirs.get("/interactions/export.csv", {"queue": legs.queue["id"], "preset": "today"})
    everything = theirs.post(f"/interactions/assign-all/?queue={legs.queue['id']}&preset=today",
                             {"code": legs.queue["codeIds"][0]})  # fmt: skip

    assert "queue" in search.context["form"].errors and "results" not in search.context
    assert export.status_code == 400 and "queue" in export.context["form"].errors
    assert everything.status_code == 302 and not Assignment.objects.exists()
    assert len(legs.sandbox.requests()) == before  # refused before any Genesys call


def test_an_assignment_or_job_of_another_queue_is_not_found_and_not_changed(legs: Any,
                                                                           two_leads: tuple[Client, Client]) -> None:  # fmt: skip
    mine, theirs = two_leads
    job = bulk_job(mine, [legs(state="connected")], legs.queue["codeIds"][0])
    assignment = job.assignments.get()
    before = state(legs.sandbox)

    assert theirs.get(f"/assignments/jobs/{job.pk}/").status_code == 404
    assert theirs.get(f"/assignments/jobs/{job.pk}/", HTTP_HX_REQUEST="true").status_code == 404  # the polled fragment
    assert theirs.get(f"/assignments/{assignment.pk}/").status_code == 404
    assert theirs.post(f"/assignments/{assignment.pk}/cancel/", {"next": "/"}).status_code == 404
    assert theirs.post(f"/assignments/{assignment.pk}/retry/").status_code == 404
    assert assignment.pk not in {a.pk for a in theirs.get("/assignments/", {"state": "requested"}).context["page"]}
    assert job.pk not in {j.pk for j in theirs.get("/assignments/").context["jobs"]}

    assignment.refresh_from_db()
    assert assignment.state == State.REQUESTED and state(legs.sandbox) == before


def test_assigning_a_leg_of_another_queue_by_hand_edited_ids_is_refused(legs: Any, two_leads: tuple[Client, Client]) -> None:
    _, theirs = two_leads
    cid, pid = legs()
    before = state(legs.sandbox)

    one = theirs.post(f"/interactions/{cid}/legs/{pid}/assign/", {"code": legs.queue["codeIds"][0]})
    form = {"leg": [f"{cid}/{pid}"], "code": legs.queue["codeIds"][0]}
    preview = theirs.post("/assignments/bulk/preview/", form)
    confirm = theirs.post("/assignments/bulk/confirm/", {**form, "digest": preview.context["review"].digest,
                                                         "skip_invalid": "1"})  # fmt: skip

    assert one.status_code == 404  # the conversation page it would be shown on is not theirs either
    assert [r.verdict for r in preview.context["review"].rows] == [Verdict.NOT_ALLOWED]
    assert confirm.status_code == 200 and "not granted to you" in confirm.content.decode()
    assert state(legs.sandbox) == before


def test_a_csv_naming_legs_of_another_queue_queues_nothing(legs: Any, two_leads: tuple[Client, Client]) -> None:
    _, theirs = two_leads
    cid, pid = legs()
    before = state(legs.sandbox)
    text = HEADER + f"{cid},{pid},{legs.queue['codeIds'][0]},\n"

    review = theirs.post("/assignments/upload/", {"file": SimpleUploadedFile("a.csv", text.encode(), "text/csv")})
    rows = review.context["review"].rows
    confirm = theirs.post("/assignments/upload/confirm/", {"upload": review.context["upload"], "skip_invalid": "1",
                                                            "digest": review.context["review"].digest})  # fmt: skip

    assert [r.verdict for r in rows] == [Verdict.NOT_ALLOWED]
    assert QUEUE_NOT_GRANTED.split("{")[0] in rows[0].message
    assert confirm.status_code == 200 and state(legs.sandbox) == before


def test_an_upload_kept_for_one_lead_cannot_be_confirmed_by_another(legs: Any, two_leads: tuple[Client, Client]) -> None:
    mine, theirs = two_leads
    cid, pid = legs()
    text = HEADER + f"{cid},{pid},{legs.queue['codeIds'][0]},\n"
    review = mine.post("/assignments/upload/", {"file": SimpleUploadedFile("a.csv", text.encode(), "text/csv")})
    before = state(legs.sandbox)

    stolen = theirs.post("/assignments/upload/confirm/", {"upload": review.context["upload"],
                                                          "digest": review.context["review"].digest})  # fmt: skip

    assert stolen.status_code == 302 and stolen["Location"] == "/assignments/upload/"  # kept in the other session only
    assert state(legs.sandbox) == before


def test_an_export_and_a_search_hold_only_the_leads_own_queues(legs: Any, two_leads: tuple[Client, Client]) -> None:
    mine, theirs = two_leads
    drift = (timezone.now() - sandbox_now(legs.sandbox)).total_seconds()  # search up to the portal's now
    if drift > 0:
        legs.sandbox.clock(advance_seconds=drift)
    ago = 300 + max(0.0, -drift)
    on_a, _ = legs(startedSecondsAgo=ago)
    on_b, _ = legs(queueId=legs.other["id"], startedSecondsAgo=ago)
    query = {"preset": "last_7_days", "wrapup": "acw"}

    def export(client: Client) -> str:
        return b"".join(client.get("/interactions/export.csv", query).streaming_content).decode()

    assert on_a in export(mine) and on_b not in export(mine)
    assert on_b in export(theirs) and on_a not in export(theirs)
    page = theirs.get("/interactions/", query).content.decode()
    assert on_b in page and on_a not in page
