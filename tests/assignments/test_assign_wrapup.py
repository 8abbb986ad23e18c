"""`assign_wrapup`: the browser's assignment services from the command line, against the sandbox.

With ``--wait`` the command drives the engine itself, so no cluster is needed; enqueueing is a
no-op here. Exit statuses: 0 accepted (with --wait: applied), 1 refused/failed/skipped, 2 usage.
"""

from __future__ import annotations

import getpass
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from wrapup_portal.assignments.management.commands import assign_wrapup
from wrapup_portal.assignments.models import Assignment, BulkJob, Source, State
from wrapup_portal.audit.models import Action, ActorKind, AuditEvent
from wrapup_portal.catalog.models import WrapupCode

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_queueing")]

ROOT = Path(__file__).resolve().parents[2]
HEADER = "conversation_id,participant_id,code,notes\n"


def assign(*args: str) -> tuple[str, str]:
    """(stdout, stderr) of one run; a non-zero exit raises ``CommandError`` carrying its status."""
    out, err = io.StringIO(), io.StringIO()
    call_command("assign_wrapup", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def assign_fails(*args: str) -> tuple[CommandError, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("assign_wrapup", *args, stdout=out, stderr=err)
    return failed.value, out.getvalue(), err.getvalue()



def writes(sandbox: Any) -> dict[str, int]:
    return sandbox.stats()["writes"]


def carried(sandbox: Any, cid: str, pid: str) -> str | None:
    wrapup = sandbox.api("GET", f"/api/v2/conversations/{cid}/participants/{pid}/wrapup").json()
    return (wrapup or {}).get("code")


def csv_file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "codes.csv"
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows))
    return path


# --- one leg ---------------------------------------------------------------------------------------


def test_one_leg_in_acw_is_applied_once_with_wait_and_audited_as_the_cli(legs: Any) -> None:
    cid, pid = legs()
    code = WrapupCode.objects.get(code_id=legs.queue["codeIds"][0])

    out, _ = assign("--conversation", cid, "--code", code.name, "--notes", "called back", "--wait")  # no --participant: one leg

    assignment = Assignment.objects.get()
    assert out.splitlines() == [f"{assignment.pk}\t{cid}/{pid}\tapplied\t{code.name}\twritten"]
    assert writes(legs.sandbox) == {f"{cid}/{pid}": 1}
    assert carried(legs.sandbox, cid, pid) == code.code_id
    assert assignment.source == Source.CLI and assignment.requested_by is None
    assert assignment.requested_by_name == getpass.getuser() and assignment.notes == "called back"
    requested = AuditEvent.objects.get(action=Action.ASSIGNMENT_REQUESTED, target_id=str(assignment.pk))
    assert (requested.actor_kind, requested.actor_username) == (ActorKind.CLI, getpass.getuser())
    assert AuditEvent.objects.filter(action=Action.ASSIGNMENT_APPLIED, target_id=str(assignment.pk)).count() == 1


def test_without_wait_it_prints_the_queued_assignment_and_writes_nothing(legs: Any) -> None:
    cid, pid = legs(state="connected")
    code = legs.queue["codeIds"][0]

    out, _ = assign("--conversation", cid, "--participant", pid, "--code", code)

    assignment = Assignment.objects.get()
    assert assignment.state == State.REQUESTED
    assert out.split("\t")[:3] == [str(assignment.pk), f"{cid}/{pid}", "requested"]
    assert "will be written when ACW starts" in out
    assert writes(legs.sandbox) == {}


def test_a_queue_not_granted_to_the_as_user_is_refused_and_changes_nothing(legs: Any, lead: Any, grant: Any) -> None:
    cid, pid = legs()
    grant(lead, [])
    events_before = AuditEvent.objects.count()

    error, out, _ = assign_fails("--conversation", cid, "--code", legs.queue["codeIds"][0], "--as", "lead", "--wait")

    assert error.returncode == 1 and "which is not granted to you" in str(error)
    assert out == ""
    assert not Assignment.objects.exists()
    assert AuditEvent.objects.count() == events_before
    assert writes(legs.sandbox) == {}


def test_a_user_who_may_not_assign_is_refused_and_the_refusal_audited(legs: Any, compliance: Any) -> None:
    cid, _ = legs()

    error, _, _ = assign_fails("--conversation", cid, "--code", legs.queue["codeIds"][0], "--as", "compliance")

    assert error.returncode == 1 and "may not assign" in str(error)
    denied = AuditEvent.objects.get(action=Action.PERMISSION_DENIED)
    assert denied.actor_username == "compliance" and denied.extra["os_user"] == getpass.getuser()
    assert not Assignment.objects.exists() and writes(legs.sandbox) == {}


def test_several_agent_legs_without_participant_names_them_and_stops(legs: Any) -> None:
    cid, _ = legs(agents=2)
    conversation = legs.sandbox.api("GET", f"/api/v2/conversations/{cid}").json()
    agents = [p["id"] for p in conversation["participants"] if p["purpose"] == "agent"]
    assert len(agents) == 2

    error, _, _ = assign_fails("--conversation", cid, "--code", legs.queue["codeIds"][0], "--wait")

    # Exit 1, not 2: the command line was well formed; the service looked and refused.
    assert error.returncode == 1 and "2 agent legs; say which" in str(error)
    assert all(pid in str(error) for pid in agents)
    assert not Assignment.objects.exists() and writes(legs.sandbox) == {}


def test_with_the_participant_given_one_of_several_legs_is_coded(legs: Any) -> None:
    cid, pid = legs(agents=2)

    assign("--conversation", cid, "--participant", pid, "--code", legs.queue["codeIds"][0], "--wait")

    assert writes(legs.sandbox) == {f"{cid}/{pid}": 1}


def test_a_leg_still_connected_at_the_timeout_is_reported_live_exit_1(legs: Any) -> None:
    cid, pid = legs(state="connected")

    error, out, _ = assign_fails("--conversation", cid, "--code", legs.queue["codeIds"][0], "--wait", "--timeout", "0.5")

    assert error.returncode == 1 and "still live" in str(error)
    assert out.split("\t")[2] == State.WAITING_FOR_ACW
    assert Assignment.objects.get().state == State.WAITING_FOR_ACW and writes(legs.sandbox) == {}


def test_a_leg_whose_acw_is_over_expires_exit_1(legs: Any) -> None:
    cid, _ = legs(state="ended", wrapupCode=legs.queue["codeIds"][1])

    error, out, _ = assign_fails("--conversation", cid, "--code", legs.queue["codeIds"][0], "--wait")

    assert error.returncode == 1 and "1 of 1 assignment(s) not applied" in str(error)
    assert "\texpired\t" in out and "Genesys kept" in out
    assert writes(legs.sandbox) == {}


@pytest.mark.parametrize("mode", ["single", "csv"])
def test_a_write_path_other_than_server_is_refused_plainly(legs: Any, settings: Any, tmp_path: Path, mode: str) -> None:
    settings.GENESYS_WRITE_PATH = "agent"
    cid, pid = legs()
    code = legs.queue["codeIds"][0]
    args = (["--conversation", cid, "--code", code] if mode == "single"
            else ["--csv", str(csv_file(tmp_path, f"{cid},{pid},{code},"))])  # fmt: skip

    error, _, _ = assign_fails(*args, "--wait")

    assert error.returncode == 1 and "GENESYS_WRITE_PATH=agent" in str(error) and "not available yet" in str(error)
    assert not Assignment.objects.exists() and writes(legs.sandbox) == {}


# --- CSV -------------------------------------------------------------------------------------------


def test_a_csv_with_one_bad_row_queues_nothing_and_names_the_line(legs: Any, tmp_path: Path) -> None:
    (c1, p1), (c2, p2) = legs(), legs()
    code = legs.queue["codeIds"][0]
    path = csv_file(tmp_path, f"{c1},{p1},{code},", f"{c2},{p2},No Such Code,", f"{c2},,{code},")

    error, out, err = assign_fails("--csv", str(path), "--wait")

    assert error.returncode == 1 and "nothing was queued" in str(error)
    assert err.splitlines() == ["line 3: No wrap-up code has the id or exact name 'No Such Code' in the catalog."]
    assert out == ""
    assert not Assignment.objects.exists() and not BulkJob.objects.exists()
    assert writes(legs.sandbox) == {}


def test_skip_invalid_queues_and_applies_the_good_rows_and_still_exits_1(legs: Any, tmp_path: Path) -> None:
    (c1, p1), (c2, p2) = legs(), legs()
    code = legs.queue["codeIds"][0]
    path = csv_file(tmp_path, f"{c1},{p1},{code},first", f"{c2},{p2},,", f"{c2},,{code},second")

    error, out, err = assign_fails("--csv", str(path), "--skip-invalid", "--wait")

    assert error.returncode == 1 and "1 of 3 row(s) refused and skipped; 2 queued" in str(error)
    assert err.splitlines() == ["line 3: code is empty."]
    job = BulkJob.objects.get()
    assert job.source == Source.CSV and job.file_name == "codes.csv"
    assert sorted(a.state for a in job.assignments.all()) == [State.APPLIED, State.APPLIED]
    assert out.splitlines()[0] == f"Job #{job.pk}: 2 assignment(s) queued from codes.csv."
    assert [line.split("\t")[2] for line in out.splitlines()[1:]] == ["applied", "applied"]
    assert writes(legs.sandbox) == {f"{c1}/{p1}": 1, f"{c2}/{p2}": 1}


def test_an_all_good_csv_as_a_granted_lead_is_applied_exit_0_from_one_read(legs: Any, lead: Any, grant: Any,
                                                                           tmp_path: Path) -> None:  # fmt: skip
    grant(lead, [legs.queue["id"]])
    made = [legs() for _ in range(3)]
    name = WrapupCode.objects.get(code_id=legs.queue["codeIds"][1]).name
    path = csv_file(tmp_path, *(f"{cid},{pid},{name},bulk" for cid, pid in made))
    before = len(legs.sandbox.requests())

    out, err = assign("--csv", str(path), "--as", "lead", "--wait")

    assert err == ""
    assert {a.state for a in Assignment.objects.all()} == {State.APPLIED}
    assert Assignment.objects.count() == 3 and {a.requested_by_name for a in Assignment.objects.all()} == {"lead"}
    assert writes(legs.sandbox) == {f"{cid}/{pid}": 1 for cid, pid in made}
    api = [r for r in legs.sandbox.requests()[before:] if r["path"].startswith("/api/")]
    assert [r["method"] for r in api].count("PATCH") == 3
    assert [r["method"] for r in api if r["method"] != "PATCH"] == ["GET"]  # one analytics read for all rows
    assert len(out.splitlines()) == 4


def test_an_all_good_csv_without_wait_prints_the_job_and_exits_0(legs: Any, tmp_path: Path) -> None:
    cid, pid = legs()
    out, _ = assign("--csv", str(csv_file(tmp_path, f"{cid},{pid},{legs.queue['codeIds'][0]},")))

    job = BulkJob.objects.get()
    assignment = job.assignments.get()
    assert out.splitlines() == [f"Job #{job.pk}: 1 assignment(s) queued from codes.csv.",
                                f"{assignment.pk}\t{cid}/{pid}\trequested\t{assignment.code_name}\twill apply"]  # fmt: skip
    assert writes(legs.sandbox) == {}


# --- usage errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    ([], assign_wrapup.ONE_MODE),
    (["--conversation", "X", "--code", "Y", "--csv", "FILE"], assign_wrapup.ONE_MODE),
    (["--conversation", "X"], assign_wrapup.NEEDS_CODE),
    (["--conversation", " ", "--code", "Y"], assign_wrapup.EMPTY_CONVERSATION),
    (["--csv", "FILE", "--code", "Y"], "--code applies only with --conversation"),
    (["--csv", "FILE", "--participant", "P"], "--participant applies only with --conversation"),
    (["--csv", "FILE", "--notes", "N"], "--notes applies only with --conversation"),
    (["--conversation", "X", "--code", "Y", "--skip-invalid"], assign_wrapup.ONLY_CSV),
    (["--conversation", "X", "--code", "Y", "--timeout", "5"], assign_wrapup.ONLY_WAIT),
    (["--conversation", "X", "--code", "Y", "--wait", "--timeout", "0"], assign_wrapup.BAD_TIMEOUT),
    (["--conversation", "X", "--code", "Y", "--as", "nobody"], "--as 'nobody': no such user"),
    (["--csv", "MISSING"], "cannot read it (No such file or directory)"),
    (["--csv", ""], "cannot read it"),
    (["--csv", "NOT_UTF8"], "The file is not UTF-8 text."),
    (["--csv", "BAD_HEADER"], "The first line must be the header"),
    (["--csv", "EMPTY"], "The file has a header but no rows."),
])  # fmt: skip
def test_usage_errors_exit_2_and_call_nothing(db: None, genesys: Any, tmp_path: Path, args: list[str], message: str) -> None:
    files = {"FILE": HEADER + "x,,y,\n", "MISSING": None, "NOT_UTF8": b"\xff\xfe\x00", "BAD_HEADER": "id,code\nx,y\n",
             "EMPTY": HEADER}  # fmt: skip
    for name, content in files.items():
        if isinstance(content, bytes):
            (tmp_path / name).write_bytes(content)
        elif content is not None:
            (tmp_path / name).write_text(content)
    args = [str(tmp_path / a) if a in files else a for a in args]
    requests_before = genesys.stats()["requests"]

    error, out, _ = assign_fails(*args)

    assert error.returncode == 2 and message in str(error), str(error)
    assert out == "" and not Assignment.objects.exists()
    assert genesys.stats()["requests"] == requests_before  # no Genesys call


def test_exit_statuses_from_the_command_line(tmp_path: Path) -> None:
    """argparse's errors and the command's own usage errors both exit 2 from a shell, on stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENESYS_", "DATABASE_URL"))}
    env.update(DJANGO_SETTINGS_MODULE="wrapup_portal.settings", DATABASE_URL=f"sqlite:///{tmp_path / 'cli.sqlite3'}")

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, str(ROOT / "manage.py"), "assign_wrapup", *args]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)

    for args, message in (
        (["--conversation", "X", "--code", "Y", "--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["--conversation", "X", "--code", "Y", "--wait", "--timeout", "soon"], "invalid float value: 'soon'"),
        (["--conversation"], "expected one argument"),
        ([], assign_wrapup.ONE_MODE),
        (["--csv", str(tmp_path / "nope.csv")], "cannot read it"),
    ):
        done = manage(*args)
        assert done.returncode == 2 and message in done.stderr and done.stdout == "", (args, done.returncode, done.stderr)
    assert "--skip-invalid" in manage("--help").stdout
