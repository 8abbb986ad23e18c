"""The Content-Security-Policy in a real browser: the portal's pages run under it, and what it forbids
is blocked and reported (which is what makes every other browser test fail on a violation)."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps

from tests.conftest import PASSWORD
from wrapup_portal.accounts.roles import roles_sync

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Any, username: str) -> None:
    roles_sync(apps)  # a transactional test starts from an empty database
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


@pytest.mark.csp_expected
def test_inline_script_and_style_are_blocked_and_reported(page: Any, make_user: Any, no_csp_violations: list[str]) -> None:
    roles_sync(apps)
    make_user("lead", "Team lead")
    sign_in(page, "lead")
    page.evaluate("""() => {
        const s = document.createElement('script'); s.textContent = 'window.injected = 1'; document.body.appendChild(s);
        document.body.setAttribute('style', 'background: red');
    }""")  # fmt: skip
    page.wait_for_timeout(200)

    assert page.evaluate("() => window.injected") is None  # the inline script did not run
    assert page.evaluate("() => getComputedStyle(document.body).backgroundColor") != "rgb(255, 0, 0)"
    assert any("script-src" in m for m in no_csp_violations) and any("style-src" in m for m in no_csp_violations)
    no_csp_violations.clear()


def test_htmx_runs_under_the_policy(page: Any, make_user: Any) -> None:
    roles_sync(apps)
    make_user("lead", "Team lead")
    sign_in(page, "lead")
    config = page.evaluate("() => [htmx.config.includeIndicatorStyles, htmx.config.allowEval, htmx.config.allowScriptTags]")
    assert config == [False, False, False]
    assert page.evaluate("() => document.querySelectorAll('style').length") == 0  # htmx injected no <style>
