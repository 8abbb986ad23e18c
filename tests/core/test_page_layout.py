"""Every page each role can open has the same accessible frame: a page title of its own, one h1,
the skip link, the favicon and vendored stylesheet, and a name for every control a screen reader
meets. The pages come from the URL resolver (tests/test_access.py), so a new page is checked too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest

from wrapup_portal.accounts.roles import ADMIN, COMPLIANCE, TEAM_LEAD

from tests.test_access import PAGE_ACCESS, PORTAL_ROUTES

pytestmark = pytest.mark.integration

CONTROLS = {"input", "select", "textarea"}
UNNAMED_INPUTS = {"hidden", "submit", "button", "reset", "image"}  # named by value or not shown


@dataclass
class Page(HTMLParser):
    title: str = ""
    h1: int = 0
    ids: Counter[str] = field(default_factory=Counter)
    label_for: set[str] = field(default_factory=set)
    controls: list[tuple[str, dict[str, str], bool]] = field(default_factory=list)  # tag, attrs, inside a <label>
    buttons: list[list[str]] = field(default_factory=list)  # text and aria-label of each <button>
    links: list[dict[str, str]] = field(default_factory=list)
    lang: str = ""
    _in_title: bool = False
    _in_button: bool = False
    _labels: int = 0

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids[a["id"]] += 1
        if tag == "html":
            self.lang = a.get("lang", "")
        elif tag == "title" and not self.title:
            self._in_title = True
        elif tag == "h1":
            self.h1 += 1
        elif tag == "label":
            self._labels += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in CONTROLS and a.get("type", "") not in UNNAMED_INPUTS:
            self.controls.append((tag, a, self._labels > 0))
        elif tag == "button":
            self.buttons.append([a.get("aria-label", "")])
            self._in_button = True
        elif tag == "link":
            self.links.append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "label":
            self._labels -= 1
        elif tag == "button":
            self._in_button = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._in_button and data.strip():
            self.buttons[-1].append(data.strip())

    def unnamed_controls(self) -> list[str]:
        return [
            f"<{tag} name={a.get('name')!r}>" for tag, a, wrapped in self.controls
            if not (wrapped or a.get("aria-label") or a.get("aria-labelledby") or a.get("id") in self.label_for)
        ]  # fmt: skip


def pages_for(role: str) -> list[str]:
    return [
        route.path for route in PORTAL_ROUTES
        if route.name in PAGE_ACCESS and role in PAGE_ACCESS[route.name].roles
        and PAGE_ACCESS[route.name].method == "get" and not PAGE_ACCESS[route.name].missing_object
    ]  # fmt: skip


def check(html: str, where: str) -> list[str]:
    page = Page()
    page.feed(html)
    problems = []
    name = page.title.strip()
    if not name.endswith("· Wrap-up Portal") or name == "Wrap-up Portal · Wrap-up Portal" or len(name) < 20:
        problems.append(f"title {name!r} does not name the page")
    if page.h1 != 1:
        problems.append(f"{page.h1} h1 elements")
    if page.lang != "en":
        problems.append("no <html lang>")
    problems += [f"id {i!r} used {n} times" for i, n in page.ids.items() if n > 1]
    problems += [f"control without a label: {c}" for c in page.unnamed_controls()]
    problems += [f"button without a name: {b}" for b in page.buttons if not any(b)]
    rels = {(link.get("rel"), link.get("href", "").rsplit("/", 1)[-1]) for link in page.links}
    if ("icon", "favicon.svg") not in rels or ("stylesheet", "modern-normalize-3.0.1.css") not in rels:
        problems.append("favicon or vendored stylesheet missing")
    if 'class="skip" href="#content"' not in html or 'id="content"' not in html:
        problems.append("no skip link to the content")
    return [f"{where}: {p}" for p in problems]


@pytest.mark.parametrize("role", [TEAM_LEAD, ADMIN, COMPLIANCE])
def test_every_page_of_a_role_has_a_title_one_h1_and_named_controls(role: str, catalog: Any, make_user: Any,
                                                                   grant: Any, client_for: Any) -> None:  # fmt: skip
    user = make_user(f"user-{role[:4].lower()}", role)
    if role == TEAM_LEAD:
        grant(user, [catalog.org()["queues"][0]["id"]])
    client = client_for(user)
    problems, seen = [], 0
    for path in pages_for(role):
        response = client.get(path)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue  # exports and redirects have no page
        seen += 1
        problems += check(response.content.decode(), path)
    assert seen >= 3
    assert problems == []


def test_the_sign_in_page_and_error_pages_share_the_frame(client: Any, lead: Any, client_for: Any) -> None:
    assert check(client.get("/accounts/login/").content.decode(), "sign-in") == []
    not_found = client_for(lead).get("/no-such-page/")
    assert not_found.status_code == 404 and check(not_found.content.decode(), "404") == []
    refused = client_for(lead).get("/audit/")
    assert refused.status_code == 403 and check(refused.content.decode(), "403") == []


def test_the_check_sees_what_it_looks_for() -> None:
    bad = ('<html><head><title>Wrap-up Portal</title></head><body><h1>a</h1><h1>b</h1><input name="q" id="x">'
           '<span id="x"></span><button></button><label>Name <input name="n"></label></body></html>')
    problems = check(bad, "bad")
    assert any("does not name the page" in p for p in problems) and any("2 h1" in p for p in problems)
    assert any("<input name='q'>" in p for p in problems) and not any("'n'" in p for p in problems)
    assert any("id 'x' used 2 times" in p for p in problems) and any("button without a name" in p for p in problems)
    assert any("favicon" in p for p in problems) and any("skip link" in p for p in problems)
