from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from wrapup_portal.core.genesys import reset_genesys_client


@pytest.fixture
def genesys(settings, sandbox) -> Iterator[Any]:
    """Point the portal's Genesys settings at the test sandbox."""
    settings.GENESYS_API_URL = settings.GENESYS_LOGIN_URL = sandbox.url
    settings.GENESYS_CLIENT_ID, settings.GENESYS_CLIENT_SECRET = sandbox.client_id, sandbox.client_secret
    reset_genesys_client()
    yield sandbox
    reset_genesys_client()


def pages(count: int, size: int = 100) -> int:
    """Requests needed to list `count` entities at page size `size` (an empty list is one page)."""
    return max(1, math.ceil(count / size))
