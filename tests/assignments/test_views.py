"""The assignment pages against the sandbox over HTTP: assign one leg, bulk and CSV, a job's progress.

Nothing goes to a cluster (``assignment_enqueue`` is a no-op); tests drive the engine with
``assignment_execute`` where they need a leg to move on.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from wrapup_portal.assignments.engine import assignment_execute
from wrapup_portal.assignments.models import Assignment, BulkJob, Source, State
from wrapup_portal.assignments.selectors import BAD_ROWS_BLOCK, CHANGED_SINCE_PREVIEW
from wrapup_portal.assignments.services import (
    CODE_NOT_OFFERED,
    REASON_NEEDED,
    UNKNOWN_CODE,
    Verdict,
)
from wrapup_portal.assignments.views import UPLOAD_GONE
from wrapup_portal.accounts.models import QueueGrant
from wrapup_portal.audit.models import Action, AuditEvent
from wrapup_portal.catalog.models import CodeGroup, WrapupCode

from tests.interactions.conftest import sandbox_now

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_queueing")]

HEADER = "conversation_id,participant_id,code,notes\n"


@pytest.fixture
def lead_client(lead: Any, grant: Any, legs: Any, client_for: Any) -> Client:
    grant(lead, [legs.queue["id"]])
    return client_for(lead)


def name(code_id: str) -> str:
    return WrapupCode.objects.get(code_id=code_id).name


def writes(sandbox: Any) -> int:
    return sum(sandbox.stats()["writes"].values())


def carried(sandbox: Any, cid: str, pid: str) -> str | None:
    wrapup = sandbox.api("GET", f"/api/v2/conversations/{cid}/participants/{pid}/wrapup").json()
    return (wrapup or {}).get("code")


def run_all() -> None:
    for pk in Assignment.objects.filter(state__in=(State.REQUESTED, State.WAITING_FOR_ACW)).values_list("pk", flat=True):
        assignment_execute(assignment_id=pk)


def html(response: Any) -> str:
    return response.content.decode()


# --- one leg -------------------------------------------------------------------------------------------------
def test_single_assign_from_the_detail_page_is_applied(legs: Any, lead_client: Client) -> None:
    cid, pid = legs()
    code = legs.queue["codeIds"][1]

    page = html(lead_client.get(f"/interactions/{cid}/"))
    assert f'id="assign-{pid}"' in page and f'action="/interactions/{cid}/legs/{pid}/assign/"' in page
    assert all(name(c) in page for c in legs.queue["codeIds"])  # the leg's own queue's codes are offered
    foreign = set(legs.other["codeIds"]) - set(legs.queue["codeIds"])
    assert not any(f'value="{c}"' in page for c in foreign)  # and no other queue's

    response = lead_client.post(f"/interactions/{cid}/legs/{pid}/assign/", {"code": code, "notes": "called back"})
    assignment = Assignment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/assignments/{assignment.pk}/"
    assert (assignment.code_id, assignment.notes, assignment.source) == (code, "called back", Source.PERSON)

    assignment_execute(assignment_id=assignment.pk)
    assert carried(legs.sandbox, cid, pid) == code
    shown = html(lead_client.get(response["Location"]))
    assert "Applied" in shown and name(code) in shown and "every 2 seconds" not in shown  # final: no polling


@pytest.mark.parametrize("case", ["code not offered", "correction without a reason", "no code chosen", "queue not granted"])
def test_a_refused_assign_is_shown_on_the_page_and_creates_nothing(legs: Any, lead: Any, lead_client: Client,
                                                                   case: str) -> None:  # fmt: skip
    sandbox = legs.sandbox
    queue = legs.queue
    if case == "correction without a reason":  # the agent chose a code: replacing it needs a reason
        cid, pid = legs(state="wrapped", wrapupCode=queue["codeIds"][0])
    elif case == "queue not granted":
        cid, pid = legs()
        QueueGrant.objects.filter(user=lead).delete()
    else:
        cid, pid = legs()
    foreign = sorted(set(legs.other["codeIds"]) - set(queue["codeIds"]))[0]
    code = {"code not offered": foreign, "no code chosen": ""}.get(case, queue["codeIds"][1])
    events, before = AuditEvent.objects.count(), len(sandbox.requests())

    response = lead_client.post(f"/interactions/{cid}/legs/{pid}/assign/", {"code": code, "notes": "kept as typed"})

    if case == "queue not granted":  # as if the conversation did not exist
        assert response.status_code == 404
    else:
        page = html(response)
        assert response.status_code == 200
        expected = {
            "code not offered": CODE_NOT_OFFERED.format(name=name(foreign), queue=f"{queue['name']} ({queue['id']})"),
            "correction without a reason": REASON_NEEDED.format(name=name(queue["codeIds"][0])),
            "no code chosen": "This field is required.",
        }[case]
        assert escape(expected) in page
        assert f'id="assign-{pid}"' in page and "kept as typed" in page  # the leg's form, as it was filled in
    assert not Assignment.objects.exists()
    assert AuditEvent.objects.count() == events
    assert writes(sandbox) == 0
    if case == "no code chosen":  # the form refused it before the service read the leg
        assert not [r for r in sandbox.requests()[before:] if r["path"] == f"/api/v2/conversations/{cid}"]


def test_a_correction_with_a_reason_is_queued(legs: Any, lead_client: Client) -> None:
    cid, pid = legs(state="wrapped", wrapupCode=legs.queue["codeIds"][0])
    page = html(lead_client.get(f"/interactions/{cid}/"))
    assert "Reason (required: this replaces the agent" in page

    response = lead_client.post(f"/interactions/{cid}/legs/{pid}/assign/", {"code": legs.queue["codeIds"][1], "reason": "wrong code"})

    assert response.status_code == 302
    assert Assignment.objects.get().reason == "wrong code"


def test_the_board_links_each_leg_to_its_assign_form(legs: Any, lead_client: Client) -> None:
    cid, pid = legs()
    page = html(lead_client.get("/interactions/live/"))
    assert f'href="/interactions/{cid}/#assign-{pid}">Assign</a>' in page


# --- bulk ------------------------------------------------------------------------------------------------------
def test_bulk_preview_counts_and_confirm_queues_exactly_the_queueable_legs(legs: Any, lead_client: Client) -> None:
    sandbox = legs.sandbox
    acw = [legs() for _ in range(3)]
    connected = legs(state="connected")
    final = legs(state="ended", wrapupCode="ININ-WRAP-UP-TIMEOUT")
    theirs = legs(queueId=legs.other["id"])  # not granted to the lead
    code = legs.queue["codeIds"][0]
    selected = [*acw, connected, final, theirs]
    form = {"leg": [f"{c}/{p}" for c, p in selected], "code": code, "notes": "bulk", "reason": "monday clean-up"}

    response = lead_client.post("/assignments/bulk/preview/", form)

    page = html(response)
    review = response.context["review"]
    assert dict(review.counts) == {Verdict.WILL_APPLY: 3, Verdict.WAITS: 1, Verdict.FINAL: 1, Verdict.NOT_ALLOWED: 1}
    assert (review.ok_count, review.bad_count) == (5, 1)
    assert "Queue the 5 good legs and skip 1 bad one" in page
    assert "which is not granted to you" in page
    assert not Assignment.objects.exists() and writes(sandbox) == 0  # a preview writes nothing

    confirm = {**form, "digest": review.digest}
    refused = lead_client.post("/assignments/bulk/confirm/", confirm)  # bad rows, and no explicit "skip them"
    assert refused.status_code == 200 and BAD_ROWS_BLOCK.format(count=1, s="") in html(refused)
    assert not BulkJob.objects.exists()

    response = lead_client.post("/assignments/bulk/confirm/", {**confirm, "skip_invalid": "1"})

    job = BulkJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/assignments/jobs/{job.pk}/"
    queued = {(a.conversation_id, a.participant_id) for a in job.assignments.all()}
    assert queued == {*acw, connected, final}
    assert {a.source for a in job.assignments.all()} == {Source.BULK}
    assert job.reason == "monday clean-up" and writes(sandbox) == 0


def test_a_stale_bulk_confirm_queues_nothing(legs: Any, lead: Any, lead_client: Client, grant: Any) -> None:
    grant(lead, [legs.other["id"]])
    mine, theirs = legs(), legs(queueId=legs.other["id"])
    code = sorted(set(legs.queue["codeIds"]) & set(legs.other["codeIds"]))
    form = {"leg": [f"{c}/{p}" for c, p in (mine, theirs)], "code": code[0] if code else legs.queue["codeIds"][0]}
    review = lead_client.post("/assignments/bulk/preview/", form).context["review"]
    QueueGrant.objects.filter(user=lead, code_group__queue_id=legs.other["id"]).delete()  # revoked meanwhile

    response = lead_client.post("/assignments/bulk/confirm/", {**form, "digest": review.digest, "skip_invalid": "1"})

    assert response.status_code == 200
    assert escape(CHANGED_SINCE_PREVIEW) in html(response)
    assert not Assignment.objects.exists() and not BulkJob.objects.exists()


def test_the_search_finds_legs_in_acw_and_offers_the_bulk_form_with_their_queues_codes(legs: Any, lead_client: Client) -> None:
    # The portal searches up to its own now: the conversation must start before it, whatever
    # other tests did to the sandbox's clock.
    drift = (timezone.now() - sandbox_now(legs.sandbox)).total_seconds()
    if drift > 0:
        legs.sandbox.clock(advance_seconds=drift)
    ago = 300 + max(0.0, -drift)
    cid, pid = legs(startedSecondsAgo=ago)
    over = legs(state="ended", wrapupCode="ININ-WRAP-UP-TIMEOUT", startedSecondsAgo=ago)
    response = lead_client.get("/interactions/", {"preset": "last_7_days", "wrapup": "acw"})
    page = html(response)
    assert f'value="{cid}/{pid}"' in page  # "in ACW now" finds the leg in after-call work
    assert over[0] not in page  # and not one whose ACW is over
    assert 'id="bulk"' in page and 'form="bulk"' in page and "data-select-all" in page
    offered = set(response.context["bulk_form"].fields["code"].queryset.values_list("code_id", flat=True))
    assert offered == set(legs.queue["codeIds"])


def test_nothing_selected_goes_back_to_the_search_with_a_message(legs: Any, lead_client: Client) -> None:
    response = lead_client.post("/assignments/bulk/preview/", {"code": legs.queue["codeIds"][0]}, follow=True)
    assert response.redirect_chain[-1][0].startswith("/interactions/")
    assert "Select at least one leg first." in html(response)


# --- CSV ---------------------------------------------------------------------------------------------------------
def upload(client: Client, text: str, **extra: str) -> Any:
    return client.post("/assignments/upload/", {"file": SimpleUploadedFile("codes.csv", text.encode(), "text/csv"), **extra})


def test_a_csv_with_a_bad_row_shows_the_line_and_queues_nothing(legs: Any, lead_client: Client) -> None:
    (c1, p1), (c2, p2) = legs(), legs()
    code = legs.queue["codeIds"][0]
    text = f"{HEADER}{c1},{p1},{code},first\n{c2},{p2},No Such Code,\n\n{c2},,,\n"

    response = upload(lead_client, text, reason="from the sheet")

    page = html(response)
    review = response.context["review"]
    assert [(row.line, row.ok) for row in review.rows] == [(2, True), (3, False), (5, False)]
    assert escape(UNKNOWN_CODE.format(code="No Such Code")) in page
    assert "code is empty." in page
    assert "Queue the 1 good row and skip 2 bad ones" in page
    key = response.context["upload"]

    refused = lead_client.post("/assignments/upload/confirm/", {"upload": key, "digest": review.digest, "reason": "x"})
    assert refused.status_code == 200 and BAD_ROWS_BLOCK.format(count=2, s="s") in html(refused)
    assert not Assignment.objects.exists() and not BulkJob.objects.exists()

    done = lead_client.post("/assignments/upload/confirm/", {"upload": key, "digest": review.digest,
                                                              "reason": "from the sheet", "skip_invalid": "1"})  # fmt: skip
    job = BulkJob.objects.get()
    assert done["Location"] == f"/assignments/jobs/{job.pk}/"
    assert (job.source, job.file_name, job.reason) == (Source.CSV, "codes.csv", "from the sheet")
    assert [(a.conversation_id, a.notes) for a in job.assignments.all()] == [(c1, "first")]
    # The kept file is gone with its confirm: a second one (another tab, a double click) queues nothing.
    again = lead_client.post("/assignments/upload/confirm/", {"upload": key, "digest": review.digest, "skip_invalid": "1"},
                             follow=True)  # fmt: skip
    assert escape(UPLOAD_GONE) in html(again) and BulkJob.objects.count() == 1


def test_a_clean_csv_is_confirmed_in_one_click(legs: Any, lead_client: Client) -> None:
    rows = [legs() for _ in range(3)]
    text = HEADER + "".join(f"{c},{p},{name(legs.queue['codeIds'][0])},\n" for c, p in rows)  # codes by exact name
    response = upload(lead_client, text)
    assert "Confirm: queue 3 assignments" in html(response)

    done = lead_client.post("/assignments/upload/confirm/", {"upload": response.context["upload"],
                                                              "digest": response.context["review"].digest})  # fmt: skip

    assert done.status_code == 302
    assert BulkJob.objects.get().assignments.count() == 3


def test_a_file_that_is_not_an_assignment_csv_is_refused_on_the_form(legs: Any, lead_client: Client) -> None:
    response = upload(lead_client, "a,b,c\n1,2,3\n")
    assert response.status_code == 200 and "The first line must be the header" in html(response)
    assert "review" not in response.context
    assert not BulkJob.objects.exists()


# --- following a job ---------------------------------------------------------------------------------------------
def bulk_job(client: Client, selected: list[tuple[str, str]], code: str) -> BulkJob:
    form = {"leg": [f"{c}/{p}" for c, p in selected], "code": code}
    review = client.post("/assignments/bulk/preview/", form).context["review"]
    response = client.post("/assignments/bulk/confirm/", {**form, "digest": review.digest, "skip_invalid": "1"})
    assert response.status_code == 302, html(response)
    return BulkJob.objects.get()


def test_job_progress_counts_states_and_stops_polling_when_done(legs: Any, lead_client: Client) -> None:
    job = bulk_job(lead_client, [legs(), legs(), legs(state="connected")], legs.queue["codeIds"][0])
    url = f"/assignments/jobs/{job.pk}/"

    page = html(lead_client.get(url))
    assert "0 of 3" in page and "<strong>3</strong> Requested" in page and 'hx-trigger="every 2s"' in page

    run_all()
    fragment = lead_client.get(url, headers={"HX-Request": "true"})
    text = html(fragment)
    assert "<html" not in text and "2 of 3" in text and "66%" in text
    assert "<strong>2</strong> Applied" in text and "<strong>1</strong> Waiting for after-call work" in text
    assert 'hx-trigger="every 2s"' in text  # something is still live

    connected = job.assignments.get(state=State.WAITING_FOR_ACW)
    legs.sandbox.advance(connected.conversation_id, participantId=connected.participant_id, to="acw")
    Assignment.objects.filter(pk=connected.pk).update(next_attempt_at=connected.created_at)
    run_all()
    text = html(lead_client.get(url, headers={"HX-Request": "true"}))
    assert "3 of 3" in text and "100%" in text and "hx-trigger" not in text  # done: the fragment stops polling


def test_cancel_a_waiting_assignment_and_retry_an_expired_one(legs: Any, lead_client: Client) -> None:
    code = legs.queue["codeIds"][0]
    waiting, over = legs(state="connected"), legs(state="ended", wrapupCode="ININ-WRAP-UP-TIMEOUT")
    job = bulk_job(lead_client, [waiting, over], code)
    run_all()
    to_cancel = job.assignments.get(conversation_id=waiting[0])
    expired = job.assignments.get(conversation_id=over[0])
    assert (to_cancel.state, expired.state) == (State.WAITING_FOR_ACW, State.EXPIRED)
    page = html(lead_client.get(f"/assignments/jobs/{job.pk}/"))
    assert f'action="/assignments/{to_cancel.pk}/cancel/"' in page and f'action="/assignments/{expired.pk}/retry/"' in page
    assert "data-once" in page

    back = f"/assignments/jobs/{job.pk}/"
    response = lead_client.post(f"/assignments/{to_cancel.pk}/cancel/", {"next": back})
    assert response["Location"] == back
    to_cancel.refresh_from_db()
    assert to_cancel.state == State.CANCELLED
    assert AuditEvent.objects.filter(target_id=str(to_cancel.pk), action=Action.ASSIGNMENT_CANCELLED).exists()

    response = lead_client.post(f"/assignments/{expired.pk}/retry/", {"next": back})
    assert response["Location"] == back
    expired.refresh_from_db()
    retried = Assignment.objects.get(pk=expired.superseded_by_id)
    assert (retried.job_id, retried.code_id, retried.state) == (job.pk, code, State.REQUESTED)
    assert AuditEvent.objects.filter(target_id=str(retried.pk), action=Action.ASSIGNMENT_RETRIED).exists()
    # The job counts each leg once, by its newest try.
    progress = lead_client.get(back).context["progress"]
    assert progress.total == 2 and dict((s, n) for s, _, n in progress.counts) == {State.CANCELLED: 1, State.REQUESTED: 1}

    again = lead_client.post(f"/assignments/{to_cancel.pk}/cancel/", {"next": "https://evil.example/"}, follow=True)
    assert again.redirect_chain[0][0] == f"/assignments/{to_cancel.pk}/"  # never off the site
    assert "Only a requested or waiting assignment can be cancelled" in html(again)


def test_another_leads_job_and_assignments_are_not_found(legs: Any, lead_client: Client, make_user: Any,
                                                         grant: Any, client_for: Any) -> None:  # fmt: skip
    job = bulk_job(lead_client, [legs(state="connected")], legs.queue["codeIds"][0])
    assignment = job.assignments.get()
    other = make_user("other-lead", "Team lead")
    grant(other, [legs.other["id"]])
    theirs = client_for(other)

    assert theirs.get(f"/assignments/jobs/{job.pk}/").status_code == 404
    assert theirs.get(f"/assignments/{assignment.pk}/").status_code == 404
    assert theirs.post(f"/assignments/{assignment.pk}/cancel/").status_code == 404
    assert theirs.post(f"/assignments/{assignment.pk}/retry/").status_code == 404
    assignment.refresh_from_db()
    assert assignment.state == State.REQUESTED
    assert assignment.pk not in {a.pk for a in theirs.get("/assignments/").context["page"].object_list}


def test_the_list_shows_the_users_own_assignments_filtered_by_state(legs: Any, lead_client: Client, admin_user: Any,
                                                                    client_for: Any) -> None:  # fmt: skip
    bulk_job(lead_client, [legs(), legs(state="connected")], legs.queue["codeIds"][0])
    run_all()
    mine = lead_client.get("/assignments/", {"state": [State.APPLIED]})
    assert [a.state for a in mine.context["page"].object_list] == [State.APPLIED]
    assert len(lead_client.get("/assignments/").context["page"].object_list) == 2
    assert lead_client.get("/assignments/").context["jobs"]  # the lead's recent jobs
    # An admin, who may act on every queue, sees everyone's.
    assert len(client_for(admin_user).get("/assignments/").context["page"].object_list) == 2
    assert CodeGroup.objects.get(queue_id=legs.queue["id"]).name in html(mine)


def test_every_leg_a_search_finds_over_several_pages_is_one_bulk_job(legs: Any, lead_client: Client) -> None:
    """More legs in ACW than one page of results (100 conversations): one preview, one job for all."""
    made = {legs() for _ in range(120)}
    code = legs.queue["codeIds"][0]
    search = f"preset=today&wrapup=acw&queue={legs.queue['id']}"

    response = lead_client.post(f"/interactions/assign-all/?{search}", {"code": code, "notes": "", "reason": "all"})

    review = response.context["review"]
    assert {(r.conversation_id, r.participant_id) for r in review.rows} == made
    assert dict(review.counts) == {Verdict.WILL_APPLY: 120}
    assert "Preview every leg this search finds" not in html(response)  # the review page, not the search
    form = {"leg": [f"{c}/{p}" for c, p in made], "code": code, "reason": "all", "digest": review.digest}
    confirmed = lead_client.post("/assignments/bulk/confirm/", form)
    job = BulkJob.objects.get()
    assert confirmed["Location"] == f"/assignments/jobs/{job.pk}/"
    assert job.assignments.count() == 120


def test_every_leg_of_a_search_refuses_a_search_that_finds_too_many(legs: Any, lead_client: Client, monkeypatch: Any) -> None:
    from wrapup_portal.interactions import views as interaction_views

    monkeypatch.setattr(interaction_views, "MAX_LEGS", 2)
    for _ in range(3):
        legs()
    search = f"preset=today&wrapup=acw&queue={legs.queue['id']}"

    response = lead_client.post(f"/interactions/assign-all/?{search}", {"code": legs.queue["codeIds"][0]}, follow=True)

    assert interaction_views.ALL_TOO_MANY.format(max=2) in html(response)
    assert not BulkJob.objects.exists()
