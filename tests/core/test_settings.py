"""Settings read the environment and refuse unsafe or invalid configurations."""

from __future__ import annotations

import json
import os
import secrets
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


PRINT_SECURITY = """
import json, django
from django.conf import settings
django.setup()
names = ["SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
         "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SILENCED_SYSTEM_CHECKS"]
print(json.dumps({name: getattr(settings, name) for name in names}))
"""


def clean_env(env: dict[str, str]) -> dict[str, str]:
    """This process's environment without any portal configuration, plus `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GENESYS_", "DATABASE_URL"))}
    clean.update({"DJANGO_SETTINGS_MODULE": "wrapup_portal.settings", **env})
    return clean


def run_settings(env: dict[str, str], code: str = PRINT_SETTINGS) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean_env(env), capture_output=True, text=True, timeout=60)


def run_manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=clean_env(env), capture_output=True, text=True, timeout=60)


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The three variables a production deployment must set, and a throw-away database."""
    env = {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "DJANGO_ALLOWED_HOSTS": "portal.example.com",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}"}
    return {**env, **extra}


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
    assert sandbox["login"] == "http://127.0.0.1:8766"  # the sandbox's login host: its own port
    assert sandbox["client_id"] == "wrapup-portal-demo"
    real = json.loads(run_settings({"DJANGO_DEBUG": "1", "GENESYS_REGION": "mypurecloud.ie"}).stdout)
    assert real["api"] == "https://api.mypurecloud.ie" and real["login"] == "https://login.mypurecloud.ie"
    assert real["sandbox"] is False and real["client_id"] == ""  # never the demo pair against a real org


PRINT_GENESYS = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({"api": settings.GENESYS_API_URL, "login": settings.GENESYS_LOGIN_URL, "client_id": settings.GENESYS_CLIENT_ID,
                  "secret": settings.GENESYS_CLIENT_SECRET, "configured": settings.GENESYS_CONFIGURED,
                  "sandbox": settings.GENESYS_USES_SANDBOX}))
"""
PRODUCTION = {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "x" * 50, "DJANGO_ALLOWED_HOSTS": "portal.example.com"}
CREDENTIALS = {"GENESYS_CLIENT_ID": "client-id", "GENESYS_CLIENT_SECRET": "client-secret"}


def genesys_settings(env: dict[str, str]) -> dict[str, object]:
    result = run_settings(env, PRINT_GENESYS)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("api_url", ["https://api.mypurecloud.ie", "https://api.mypurecloud.ie/", "https://API.usw2.pure.cloud"])
def test_login_host_is_derived_from_an_api_url(api_url: str) -> None:
    found = genesys_settings({**PRODUCTION, **CREDENTIALS, "GENESYS_API_URL": api_url})
    domain = api_url.lower().removeprefix("https://api.").rstrip("/")
    assert found["login"] == f"https://login.{domain}"  # never the API host: it would receive the client secret
    assert found["configured"] is True and found["sandbox"] is False


@pytest.mark.parametrize("api_url", ["http://127.0.0.1:8765", "https://genesys-proxy.example.com", "https://api.example.com/genesys"])
def test_api_url_without_a_login_url_to_derive_refuses_to_start(api_url: str) -> None:
    for env in ({**PRODUCTION, **CREDENTIALS}, {"DJANGO_DEBUG": "1"}):
        result = run_settings({**env, "GENESYS_API_URL": api_url}, PRINT_GENESYS)
        assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr
        assert "GENESYS_LOGIN_URL is required" in result.stderr


def test_explicit_login_url_is_used_and_may_not_be_the_api_host() -> None:
    found = genesys_settings({**PRODUCTION, **CREDENTIALS, "GENESYS_API_URL": "http://127.0.0.1:9001",
                              "GENESYS_LOGIN_URL": "http://127.0.0.1:9002"})
    assert (found["api"], found["login"], found["configured"]) == ("http://127.0.0.1:9001", "http://127.0.0.1:9002", True)
    same = run_settings({**PRODUCTION, **CREDENTIALS, "GENESYS_API_URL": "http://127.0.0.1:9001",
                         "GENESYS_LOGIN_URL": "http://127.0.0.1:9001/"}, PRINT_GENESYS)
    assert same.returncode != 0 and "ImproperlyConfigured" in same.stderr
    assert "GENESYS_LOGIN_URL must not be the API host" in same.stderr


def test_without_debug_there_is_no_genesys_default() -> None:
    found = genesys_settings(PRODUCTION)  # starts: check --deploy, migrate and the admin must work
    assert found == {"api": "", "login": "", "client_id": "", "secret": "", "configured": False, "sandbox": False}


def test_without_debug_a_url_without_credentials_is_not_configured() -> None:
    found = genesys_settings({**PRODUCTION, "GENESYS_REGION": "mypurecloud.ie"})
    assert (found["api"], found["login"]) == ("https://api.mypurecloud.ie", "https://login.mypurecloud.ie")
    assert found["client_id"] == found["secret"] == "" and found["configured"] is False
    assert genesys_settings({**PRODUCTION, **CREDENTIALS, "GENESYS_REGION": "mypurecloud.ie"})["configured"] is True


def test_the_demo_pair_only_with_debug_on() -> None:
    demo = genesys_settings({"DJANGO_DEBUG": "1"})
    assert demo["sandbox"] is True and demo["configured"] is True
    assert (demo["client_id"], demo["secret"]) == ("wrapup-portal-demo", "wrapup-portal-demo-secret")


def test_invalid_write_path_is_refused_with_its_name() -> None:
    result = run_settings({"DJANGO_DEBUG": "1", "GENESYS_WRITE_PATH": "everyone"})
    assert result.returncode != 0
    assert "GENESYS_WRITE_PATH" in result.stderr


def test_check_deploy_is_clean_with_only_the_production_variables(tmp_path: Path) -> None:
    result = run_manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "WARNINGS" not in result.stderr and "identified no issues" in result.stdout


def test_production_defaults_are_the_secure_ones(tmp_path: Path) -> None:
    production = json.loads(run_settings(production_env(tmp_path), PRINT_SECURITY).stdout)
    assert production["SECURE_SSL_REDIRECT"] is True and production["SECURE_PROXY_SSL_HEADER"] is None
    assert production["SECURE_HSTS_SECONDS"] == 365 * 24 * 3600 and production["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    # Preloading is never claimed by default; its warning is silenced only while it is off.
    assert production["SECURE_HSTS_PRELOAD"] is False and production["SILENCED_SYSTEM_CHECKS"] == ["security.W021"]
    assert production["SESSION_COOKIE_SECURE"] is True and production["CSRF_COOKIE_SECURE"] is True
    demo = json.loads(run_settings({"DJANGO_DEBUG": "1"}, PRINT_SECURITY).stdout)
    assert demo["SECURE_SSL_REDIRECT"] is False and demo["SECURE_HSTS_SECONDS"] == 0
    assert demo["SESSION_COOKIE_SECURE"] is False


def test_proxy_plain_http_and_hsts_are_explicit_settings(tmp_path: Path) -> None:
    env = production_env(tmp_path, DJANGO_SECURE_PROXY_SSL_HEADER="1", DJANGO_SECURE_HSTS_SECONDS="3600",
                         DJANGO_SECURE_HSTS_PRELOAD="1")
    proxied = json.loads(run_settings(env, PRINT_SECURITY).stdout)
    assert proxied["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert proxied["SECURE_HSTS_SECONDS"] == 3600 and proxied["SECURE_HSTS_PRELOAD"] is True
    assert proxied["SILENCED_SYSTEM_CHECKS"] == []
    plain = production_env(tmp_path, DJANGO_SECURE_SSL_REDIRECT="0", DJANGO_SECURE_COOKIES="0")
    plain_http = json.loads(run_settings(plain, PRINT_SECURITY).stdout)
    assert plain_http["SECURE_SSL_REDIRECT"] is False and plain_http["SESSION_COOKIE_SECURE"] is False
    # The documented consequence of serving plain HTTP: check --deploy says so.
    result = run_manage(plain, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert "security.W008" in result.stderr and "security.W012" in result.stderr and "security.W016" in result.stderr


@pytest.mark.django_db
def test_the_test_suite_speaks_plain_http_without_redirects(client) -> None:
    # tests/environment.py opts out of the redirect explicitly: the test client and the
    # browser tests' live server have no TLS.
    assert settings.SECURE_SSL_REDIRECT is False and os.environ["DJANGO_SECURE_SSL_REDIRECT"] == "0"
    assert client.get("/accounts/login/").status_code == 200


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
