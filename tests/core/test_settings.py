"""Settings read the environment and refuse unsafe or invalid configurations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from wrapup_portal.settings import SECRET_KEY_MISSING

ROOT = Path(__file__).resolve().parents[2]
PRINT_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({"engine": db["ENGINE"], "name": str(db["NAME"]), "options": db.get("OPTIONS", {}),
                  "debug": settings.DEBUG, "api": settings.GENESYS_API_URL, "login": settings.GENESYS_LOGIN_URL,
                  "client_id": settings.GENESYS_CLIENT_ID, "sandbox": settings.GENESYS_USES_SANDBOX}))
"""


def run_settings(env: dict[str, str], code: str = PRINT_SETTINGS) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GENESYS_", "DATABASE_URL"))}
    clean.update({"DJANGO_SETTINGS_MODULE": "wrapup_portal.settings", **env})
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


def test_refuses_to_start_without_secret_key_when_debug_is_off() -> None:
    result = run_settings({"DJANGO_DEBUG": "0"})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert SECRET_KEY_MISSING in result.stderr


def test_debug_off_is_the_default() -> None:
    result = run_settings({})
    assert result.returncode != 0
    assert SECRET_KEY_MISSING in result.stderr


def test_demo_secret_only_with_debug_on() -> None:
    result = run_settings({"DJANGO_DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    assert '"debug": true' in result.stdout


def test_sqlite_default_is_configured_for_concurrent_workers() -> None:
    import json

    result = run_settings({"DJANGO_DEBUG": "1"})
    data = json.loads(result.stdout)
    assert data["engine"] == "django.db.backends.sqlite3"
    assert data["name"].endswith("db.sqlite3")
    assert data["options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in data["options"]["init_command"]
    assert data["options"]["timeout"] >= 5


def test_database_url_selects_postgresql() -> None:
    import json

    result = run_settings({"DJANGO_SECRET_KEY": "x" * 50, "DATABASE_URL": "postgres://u:p@db.example:5432/portal"})
    data = json.loads(result.stdout)
    assert data["engine"] == "django.db.backends.postgresql"
    assert data["name"] == "portal"


def test_genesys_defaults_to_the_sandbox_and_region_sets_both_hosts() -> None:
    import json

    sandbox = json.loads(run_settings({"DJANGO_DEBUG": "1"}).stdout)
    assert sandbox["sandbox"] is True and sandbox["api"] == "http://127.0.0.1:8765"
    assert sandbox["client_id"] == "wrapup-portal-demo"
    real = json.loads(run_settings({"DJANGO_DEBUG": "1", "GENESYS_REGION": "mypurecloud.ie"}).stdout)
    assert real["api"] == "https://api.mypurecloud.ie" and real["login"] == "https://login.mypurecloud.ie"
    assert real["sandbox"] is False and real["client_id"] == ""  # never the demo pair against a real org


def test_invalid_write_path_is_refused_with_its_name() -> None:
    result = run_settings({"DJANGO_DEBUG": "1", "GENESYS_WRITE_PATH": "everyone"})
    assert result.returncode != 0
    assert "GENESYS_WRITE_PATH" in result.stderr


@pytest.mark.skipif(settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3", reason="SQLite only")
def test_two_processes_writing_at_once_never_hit_database_is_locked(tmp_path: Path) -> None:
    # Read-then-write transactions from two processes: without IMMEDIATE both take a read
    # lock, neither can upgrade, and one fails with "database is locked" at once.
    code = """
import django, sys
from django.db import connection, transaction
django.setup()
with connection.cursor() as c:
    c.execute("CREATE TABLE IF NOT EXISTS counter (n INTEGER)")
for i in range(150):
    with transaction.atomic():
        with connection.cursor() as c:
            c.execute("SELECT COUNT(*) FROM counter")
            c.fetchone()
            c.execute("INSERT INTO counter VALUES (%s)", [i])
print("ok")
"""
    env = {"DJANGO_DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'concurrent.sqlite3'}"}
    run_settings(env, "import django; django.setup()\nfrom django.db import connection\nconnection.cursor().execute('CREATE TABLE counter (n INTEGER)')")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    clean.update({"DJANGO_SETTINGS_MODULE": "wrapup_portal.settings", **env})
    workers = [
        subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=clean, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [w.communicate(timeout=120) for w in workers]
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
        assert "locked" not in err
    check = run_settings(env, "import django; django.setup()\nfrom django.db import connection\nc = connection.cursor(); c.execute('SELECT COUNT(*) FROM counter'); print(c.fetchone()[0]); c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])")
    count, mode = check.stdout.split()
    assert int(count) == 450
    assert mode == "wal"
