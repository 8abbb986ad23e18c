"""A sync whose worker is killed mid-run: the lock holds, nothing half-written, the next run recovers.

Real processes on a real SQLite file (the test database cannot be shared with another process).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def manage(env: dict[str, str], *args: str, wait: bool = True) -> subprocess.Popen[str] | subprocess.CompletedProcess[str]:
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    if not wait:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def query(db: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(db, timeout=20) as connection:
        return connection.execute(sql).fetchall()


def test_killed_sync_keeps_the_lock_changes_nothing_and_the_next_run_recovers(sandbox, tmp_path: Path) -> None:
    db = tmp_path / "portal.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GENESYS_", "DATABASE_URL"))}
    env.update(DJANGO_SETTINGS_MODULE="wrapup_portal.settings", DJANGO_SECRET_KEY="kill-test", DATABASE_URL=f"sqlite:///{db}",
               GENESYS_API_URL=sandbox.url, GENESYS_LOGIN_URL=sandbox.login_url, GENESYS_CLIENT_ID=sandbox.client_id,
               GENESYS_CLIENT_SECRET=sandbox.client_secret, PORTAL_LOG_LEVEL="WARNING")
    assert manage(env, "migrate").returncode == 0

    sandbox.configure(latency_ms=300)  # slow enough to be killed while reading queue codes
    victim = manage(env, "sync_catalog", wait=False)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        phase = query(db, "SELECT status, phase FROM catalog_syncrun")
        if phase and phase[0][1] == "Reading each queue's codes":
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the sync never got to reading queue codes: {phase}")
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=10)
    assert query(db, "SELECT status, lock FROM catalog_syncrun") == [("running", 1)]
    assert query(db, "SELECT COUNT(*) FROM catalog_wrapupcode") == [(0,)]  # nothing half-written

    sandbox.configure(latency_ms=0)
    blocked = manage(env, "sync_catalog")
    assert blocked.returncode == 1 and "already running" in blocked.stderr

    # Ten minutes without progress later, the next run takes over.
    query(db, "UPDATE catalog_syncrun SET heartbeat_at = '2000-01-01 00:00:00'")
    recovered = manage(env, "sync_catalog")
    assert recovered.returncode == 0, recovered.stderr
    runs = query(db, "SELECT id, status, lock, error FROM catalog_syncrun ORDER BY id")
    assert [(r[1], r[2]) for r in runs] == [("failed", None), ("succeeded", None)]
    assert runs[0][3].startswith("Abandoned")
    assert query(db, "SELECT COUNT(*) FROM catalog_wrapupcode") == [(len([c for c in sandbox.org()["codes"] if not c["deleted"]]),)]
    verified = manage(env, "verify_audit")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    actions = [a for (a,) in query(db, "SELECT action FROM audit_auditevent WHERE target_kind = 'sync_run' ORDER BY sequence")]
    assert actions == ["sync.started", "sync.failed", "sync.started", "sync.finished"]
