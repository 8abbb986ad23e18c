"""Secrets come from the environment or from a file it names (NAME_FILE), and never show in a message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.core.test_settings import run_settings

PRINT_SECRETS = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({"genesys": settings.GENESYS_CLIENT_SECRET, "webhook": settings.WRAPUP_WEBHOOK_SECRET,
                  "secret_key": settings.SECRET_KEY, "token_key": settings.PORTAL_TOKEN_KEY,
                  "oidc": settings.OIDC_RP_CLIENT_SECRET, "sso": settings.PORTAL_OIDC_ENABLED,
                  "backends": settings.AUTHENTICATION_BACKENDS, "roles": settings.PORTAL_OIDC_ROLE_GROUPS}))
"""
BASE = {"DJANGO_DEBUG": "1", "WRAPUP_WEBHOOK_SECRET": "", "PORTAL_TOKEN_KEY": "", "PORTAL_OIDC_CLIENT_ID": ""}
SECRETS = ["GENESYS_CLIENT_SECRET", "WRAPUP_WEBHOOK_SECRET", "DJANGO_SECRET_KEY", "PORTAL_TOKEN_KEY"]


def read(env: dict[str, str]) -> dict[str, object]:
    result = run_settings({**BASE, **env}, PRINT_SECRETS)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def refusal(env: dict[str, str]) -> str:
    result = run_settings({**BASE, **env}, PRINT_SECRETS)
    assert result.returncode != 0
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize("name", SECRETS)
def test_a_secret_is_read_from_the_file_its_file_variable_names(tmp_path: Path, name: str) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("s3cr3t-from-a-file-0042\n")  # `echo … > file` leaves a newline: dropped
    found = read({f"{name}_FILE": str(secret_file), "GENESYS_REGION": "mypurecloud.ie", "GENESYS_CLIENT_ID": "id"})
    key = {"GENESYS_CLIENT_SECRET": "genesys", "WRAPUP_WEBHOOK_SECRET": "webhook", "DJANGO_SECRET_KEY": "secret_key",
           "PORTAL_TOKEN_KEY": "token_key"}[name]
    assert found[key] == "s3cr3t-from-a-file-0042"


def test_the_plain_variable_still_works() -> None:
    found = read({"GENESYS_REGION": "mypurecloud.ie", "GENESYS_CLIENT_ID": "id", "GENESYS_CLIENT_SECRET": "plain-1",
                  "WRAPUP_WEBHOOK_SECRET": "plain-2"})
    assert (found["genesys"], found["webhook"]) == ("plain-1", "plain-2")


@pytest.mark.parametrize("name", ["GENESYS_CLIENT_SECRET", "WRAPUP_WEBHOOK_SECRET"])
def test_both_the_value_and_the_file_refuse_to_start(tmp_path: Path, name: str) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text("from-the-file-7731")
    line = refusal({name: "from-the-env-7731", f"{name}_FILE": str(secret_file)})
    assert f"{name} and {name}_FILE are both set" in line
    assert "7731" not in line  # neither value is quoted


@pytest.mark.parametrize("name", ["GENESYS_CLIENT_SECRET", "WRAPUP_WEBHOOK_SECRET"])
def test_an_unreadable_or_empty_file_refuses_to_start_with_its_path(tmp_path: Path, name: str) -> None:
    missing = tmp_path / "nowhere" / "secret"
    line = refusal({f"{name}_FILE": str(missing)})
    assert f"{name}_FILE='{missing}' cannot be read (No such file or directory)" in line
    empty = tmp_path / "empty"
    empty.write_text("\n")
    assert f"{name}_FILE='{empty}' is empty" in refusal({f"{name}_FILE": str(empty)})
    directory = tmp_path
    assert "cannot be read" in refusal({f"{name}_FILE": str(directory)})


def test_sso_is_off_by_default_and_adds_no_backend() -> None:
    found = read({})
    assert found["sso"] is False and found["oidc"] == ""
    assert not any("oidc" in backend for backend in found["backends"])


def test_sso_settings_with_a_secret_file_and_role_groups(tmp_path: Path) -> None:
    secret_file = tmp_path / "oidc"
    secret_file.write_text("oidc-secret-from-file")
    found = read({"PORTAL_OIDC_CLIENT_ID": "portal", "PORTAL_OIDC_CLIENT_SECRET_FILE": str(secret_file),
                  "PORTAL_OIDC_ISSUER": "https://idp.example.com/",
                  "PORTAL_OIDC_ROLE_GROUPS": "team_lead=cc-leads, cc-sup; admin=cc-admins;compliance=cc-audit"})
    assert found["sso"] is True and found["oidc"] == "oidc-secret-from-file"
    assert found["backends"][-1] == "wrapup_portal.accounts.oidc.PortalOIDCBackend"
    assert found["roles"] == {"team_lead": ["cc-leads", "cc-sup"], "admin": ["cc-admins"], "compliance": ["cc-audit"]}


@pytest.mark.parametrize(("env", "message"), [
    ({"PORTAL_OIDC_ISSUER": "https://idp.example.com", "PORTAL_OIDC_ROLE_GROUPS": "admin=a"},
     "PORTAL_OIDC_CLIENT_SECRET (or its _FILE) is not set"),
    ({"PORTAL_OIDC_CLIENT_SECRET": "x", "PORTAL_OIDC_ROLE_GROUPS": "admin=a"},
     "PORTAL_OIDC_ISSUER (or all four PORTAL_OIDC_*_ENDPOINT variables) is not set"),
    ({"PORTAL_OIDC_CLIENT_SECRET": "x", "PORTAL_OIDC_ISSUER": "https://idp.example.com"},
     "PORTAL_OIDC_ROLE_GROUPS is not set"),
    ({"PORTAL_OIDC_CLIENT_SECRET": "x", "PORTAL_OIDC_ISSUER": "https://idp.example.com",
      "PORTAL_OIDC_ROLE_GROUPS": "superuser=cc-root"}, "PORTAL_OIDC_ROLE_GROUPS must look like"),
])
def test_incomplete_sso_settings_refuse_to_start(env: dict[str, str], message: str) -> None:
    assert message in refusal({"PORTAL_OIDC_CLIENT_ID": "portal", **env})
