"""Templates stay compatible with a Content-Security-Policy that forbids inline script."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

SCRIPT_TAG = re.compile(r"<script\b[^>]*>", flags=re.IGNORECASE)


def test_no_template_has_an_inline_script() -> None:
    root = Path(settings.BASE_DIR)
    templates = sorted([*(root / "templates").rglob("*.html"), *(root / "wrapup_portal").glob("*/templates/**/*.html")])
    assert any(path.name == "base.html" for path in templates)
    inline = [f"{path.relative_to(settings.BASE_DIR)}: {tag}" for path in templates
              for tag in SCRIPT_TAG.findall(path.read_text()) if not re.search(r"\ssrc\s*=", tag)]
    assert inline == []  # behaviour belongs in static/portal/portal.js or an htmx response header
