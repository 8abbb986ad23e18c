"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from wrapup_portal.accounts.models import QueueGrant
from wrapup_portal.accounts.roles import ADMIN, COMPLIANCE, TEAM_LEAD
from wrapup_portal.catalog.models import CodeGroup, SyncRun
from wrapup_portal.catalog.services import sync_run_execute, sync_run_request
from wrapup_portal.core.genesys import build_genesys_client
from wrapup_portal.core.genesys import reset_genesys_client

pytest_plugins = ["tests.fixtures_sandbox", "tests.audit.fixtures"]

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    # PBKDF2 is slow on purpose; tests hash many passwords and need none of its strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def local_memory_cache(request, settings) -> None:
    """Tests use a per-process memory cache instead of the shared database table.

    The test database is one SQLite connection inside a transaction that threads (the
    catalog reader's, the client's) cannot share; tests of the database cache itself opt
    out with @pytest.mark.database_cache.
    """
    if "database_cache" not in request.keywords:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": request.node.nodeid}}


@pytest.fixture
def genesys(settings, sandbox) -> Iterator[Any]:
    """Point the portal's Genesys settings at the test sandbox."""
    settings.GENESYS_API_URL, settings.GENESYS_LOGIN_URL = sandbox.url, sandbox.login_url
    settings.GENESYS_CLIENT_ID, settings.GENESYS_CLIENT_SECRET = sandbox.client_id, sandbox.client_secret
    reset_genesys_client()
    yield sandbox
    reset_genesys_client()


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    def make(username: str, role: str | None = None, **extra: object) -> User:
        user = User.objects.create_user(username=username, password=PASSWORD, **extra)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def lead(make_user) -> User:
    return make_user("lead", TEAM_LEAD)


@pytest.fixture
def admin_user(make_user) -> User:
    return make_user("admin", ADMIN, is_staff=True)


@pytest.fixture
def compliance(make_user) -> User:
    return make_user("compliance", COMPLIANCE)


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    """A test client already signed in as the given user."""

    def sign_in(user: User) -> Client:
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return sign_in


@pytest.fixture
def catalog(db: None, genesys: Any) -> Any:
    """The sandbox's queues and codes copied into the portal's catalog."""
    request = sync_run_request(trigger=SyncRun.Trigger.CLI, by=None)
    run = sync_run_execute(run_id=request.run.pk, client=build_genesys_client())
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return genesys


@pytest.fixture
def grant() -> Callable[[User, list[str]], None]:
    def give(user: User, queue_ids: list[str]) -> None:
        for group in CodeGroup.objects.filter(queue_id__in=queue_ids):
            QueueGrant.objects.create(user=user, code_group=group)

    return give
