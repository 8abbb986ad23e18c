"""Playwright on Debian's Chromium (its own browser download cannot work here).

Every browser context any test opens reports the console messages about the Content-Security-Policy:
a violation (an inline script or style the policy blocked, an eval by htmx) fails the test that caused it.

Without /usr/bin/chromium the browser tests are skipped, so `make test` passes on a machine
that has only Python; `.ci/run` installs Chromium and sets PORTAL_REQUIRE_BROWSER=1, which
turns that skip into a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("PORTAL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Flags for a closed network: no background calls to Google that would be refused.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Console messages about the Content-Security-Policy since the current test began.
CSP_VIOLATIONS: list[str] = []


def _watched(new_context: Any) -> Any:
    """``browser.new_context`` that listens to every page of the context it makes."""

    def make(*args: Any, **kwargs: Any) -> Any:
        context = new_context(*args, **kwargs)
        context.on("console", lambda message: CSP_VIOLATIONS.append(f"{message.type}: {message.text}")
                   if "Content Security Policy" in message.text else None)  # fmt: skip
        return context

    return make


@pytest.fixture(autouse=True)
def no_csp_violations(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    """Fails the test if the browser reported a Content-Security-Policy violation (opt out: @pytest.mark.csp_expected)."""
    CSP_VIOLATIONS.clear()
    yield CSP_VIOLATIONS
    if "csp_expected" not in request.keywords:
        assert not CSP_VIOLATIONS, f"the page broke the Content-Security-Policy: {CSP_VIOLATIONS}"


NO_CHROMIUM = f"Chromium is not installed at {CHROMIUM}: the browser journeys did not run (apt-get install chromium)"
SKIPPED: list[str] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Said once more, in red, after everything else: a skipped browser journey is not a pass."""
    if SKIPPED:
        terminalreporter.write_sep("!", SKIPPED[0], red=True, bold=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("PORTAL_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium not found at {CHROMIUM} but PORTAL_REQUIRE_BROWSER=1")
        SKIPPED.append(NO_CHROMIUM)
        pytest.skip(NO_CHROMIUM)
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls
    # are still synchronous, so Django's async-safety guard must let them through.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        instance.new_context = _watched(instance.new_context)  # type: ignore[method-assign]
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


SCREENSHOTS = Path(os.environ.get("PORTAL_SCREENSHOTS") or Path(__file__).resolve().parent / "screenshots")


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save the page as tests/browser/screenshots/NAME.png (or under $PORTAL_SCREENSHOTS)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def sign_in(page: Any, username: str, *, next_url: str = "", landing: str = "h1:text('Overview')") -> None:
    """Sign a demo user in through the sign-in form (``seed_demo`` must have run)."""
    from wrapup_portal.accounts.services import demo_password

    page.goto(f"/accounts/login/{'?next=' + next_url if next_url else ''}")
    page.fill("#id_username", username)
    page.fill("#id_password", demo_password(username))
    page.click("button[type=submit]")
    page.wait_for_selector(landing)


@pytest.fixture
def synced(genesys: Any) -> Any:
    """Demo users (a transactional test starts from an empty database) and a catalog synced from the sandbox."""
    from django.core.management import call_command

    from wrapup_portal.catalog.models import SyncRun
    from wrapup_portal.catalog.services import sync_run_execute, sync_run_request
    from wrapup_portal.core.genesys import build_genesys_client

    call_command("seed_demo", stdout=StringIO())
    request = sync_run_request(trigger=SyncRun.Trigger.CLI, by=None)
    run = sync_run_execute(run_id=request.run.pk, client=build_genesys_client())
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return genesys


@pytest.fixture
def utc_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A page whose browser is in UTC, so "today" means the same day to the portal and the sandbox."""
    context = browser.new_context(base_url=live_server.url, timezone_id="UTC", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()
