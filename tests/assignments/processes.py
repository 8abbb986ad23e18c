"""A portal running in other processes, for the reliability tests (fixtures in conftest.py).

The test database lives inside the test's transaction, which no other process can see, so the
portal under test (``qcluster`` workers, ``tests.assignments.portal_driver``) gets a database
of its own: a SQLite file, or, when the suite runs on PostgreSQL (``DATABASE_URL=postgres://…``),
a PostgreSQL database made for the test and dropped after it.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.fixtures_sandbox import SandboxHelper

ROOT = Path(__file__).resolve().parents[2]
FINAL = ("applied", "expired", "failed", "cancelled")


def postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


class Portal:
    """The portal in other processes, on a database of its own, talking to ``sandbox``."""

    def __init__(self, sandbox: SandboxHelper, workdir: Path) -> None:
        self.sandbox = sandbox
        self.workdir = workdir
        self.clusters: list[subprocess.Popen[str]] = []
        server = postgres_url()
        if server is None:
            self.vendor, self.sqlite_path = "sqlite", workdir / "portal.sqlite3"
            self.url = f"sqlite:///{self.sqlite_path}"
        else:
            self.vendor, self.sqlite_path = "postgresql", None
            parts = urlsplit(server)
            self.db_name = f"{parts.path.lstrip('/') or 'wrapup'}_rel_{uuid.uuid4().hex[:8]}"
            self.admin_url = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
            self.url = urlunsplit(parts._replace(path=f"/{self.db_name}"))
            self._admin(f'CREATE DATABASE "{self.db_name}"')
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GENESYS_", "DATABASE_URL", "PORTAL_"))}
        self.env.update(DJANGO_SETTINGS_MODULE="wrapup_portal.settings", DJANGO_SECRET_KEY="reliability-test",
                        DATABASE_URL=self.url, GENESYS_API_URL=sandbox.url, GENESYS_LOGIN_URL=sandbox.login_url,
                        GENESYS_CLIENT_ID=sandbox.client_id, GENESYS_CLIENT_SECRET=sandbox.client_secret,
                        PORTAL_LOG_LEVEL="WARNING", PORTAL_Q_WORKERS="2")  # fmt: skip

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(sql)

    # -- commands ------------------------------------------------------------------------------
    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    def driver(self, *args: str, timeout: float = 120) -> dict[str, Any]:
        """Run ``tests.assignments.portal_driver`` and return what it printed."""
        done = subprocess.run([sys.executable, "-m", "tests.assignments.portal_driver", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    def prepare(self) -> None:
        """Migrate and copy the sandbox's catalog in, as ``make run`` would."""
        for args in (("migrate",), ("sync_catalog",)):
            done = self.manage(*args)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]

    def create(self, legs: list[tuple[str, str]], code: str, *, enqueue: bool = True) -> dict[str, Any]:
        """One bulk job over ``legs`` (bulk_preview + bulk_job_create), queued to the broker unless told not to."""
        path = self.workdir / f"legs-{uuid.uuid4().hex[:6]}.json"
        path.write_text(json.dumps(legs))
        return self.driver("create", str(path), code, *([] if enqueue else ["--no-enqueue"]))

    # -- clusters ------------------------------------------------------------------------------
    def start_cluster(self) -> subprocess.Popen[str]:
        """``manage.py qcluster`` in a process group of its own, so that it can be killed whole."""
        log = open(self.workdir / f"qcluster-{len(self.clusters)}.log", "w")  # noqa: SIM115 - closed with the process
        cluster = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "qcluster"], cwd=ROOT, env=self.env,
                                   stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip
        self.clusters.append(cluster)
        return cluster

    @staticmethod
    def kill(cluster: subprocess.Popen[str], sig: int = signal.SIGKILL) -> None:
        """Signal the cluster's whole process group (the sentinel and its worker processes)."""
        try:
            os.killpg(cluster.pid, sig)
        except ProcessLookupError:
            return
        try:
            cluster.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
            cluster.wait(timeout=10)

    def cluster_log(self) -> str:
        return "\n".join(p.read_text()[-2000:] for p in sorted(self.workdir.glob("qcluster-*.log")))

    # -- the database, read from here ------------------------------------------------------------
    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Run one statement in its own transaction; its rows (none for an UPDATE)."""
        if self.sqlite_path is not None:
            with closing(sqlite3.connect(self.sqlite_path, timeout=20)) as connection, connection:
                return connection.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(self.url.replace("postgres://", "postgresql://", 1)) as connection:
            cursor = connection.execute(sql)
            return cursor.fetchall() if cursor.description else []

    def states(self) -> dict[str, int]:
        return dict(self.query("SELECT state, COUNT(*) FROM assignments_assignment GROUP BY state"))

    def wait_until(self, condition: Any, *, seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"{what} within {seconds:.0f} s; states {self.states()}\n{self.cluster_log()}")
            time.sleep(0.1)

    def close(self) -> None:
        for cluster in self.clusters:
            if cluster.poll() is None:
                self.kill(cluster)  # the test is over: no need to wait for a clean shut-down
        if self.vendor == "postgresql":
            self._admin(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
