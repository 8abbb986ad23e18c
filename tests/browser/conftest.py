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
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
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


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("PORTAL_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium not found at {CHROMIUM} but PORTAL_REQUIRE_BROWSER=1")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
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
