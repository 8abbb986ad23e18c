"""The documentation a clone carries is whole: its links resolve inside the repository, and
nothing points at a folder only the original workspace had."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted([ROOT / "README.md", ROOT / "SECURITY.md", ROOT / "integrations" / "genesys_sandbox" / "README.md",
                    *(ROOT / "docs").glob("*.md")])
# Built from parts so that this file does not match itself.
OUTSIDE = ("../" + "shared", "/work/" + "shared")
SKIPPED_DIRS = {".git", ".venv", "node_modules", "__pycache__", ".pytest_cache", "staticfiles", "var"}
SKIPPED_PATHS = {ROOT / "bench" / "out", ROOT / ".ci" / "pg"}  # generated, git-ignored

LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def relative_links(document: Path) -> list[str]:
    """Targets of the document's Markdown links that are not URLs, outside code blocks."""
    text = FENCE.sub("", document.read_text(encoding="utf-8"))
    return [t for t in LINK.findall(text) if not re.match(r"^[a-z][a-z0-9+.-]*:", t, re.IGNORECASE)]


def anchors(document: Path) -> set[str]:
    """GitHub's ids for the document's headings."""
    text = FENCE.sub("", document.read_text(encoding="utf-8"))
    out = set()
    for title in HEADING.findall(text):
        plain = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", title).strip().lower()
        out.add(re.sub(r"[^\w\- ]", "", plain).replace(" ", "-"))
    return out


def text_files() -> list[Path]:
    """Every file in the working tree that reads as UTF-8 text, but for tool and generated folders."""
    found = []
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT)
        if any(part in SKIPPED_DIRS for part in rel.parts) or any(p in path.parents for p in SKIPPED_PATHS):
            continue
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            found.append((path, path.read_text(encoding="utf-8")))
        except (UnicodeDecodeError, OSError):
            continue  # binary: a database, an image, a font
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve_to_files_in_the_repository(document):
    broken = []
    for target in relative_links(document):
        path_part, _, fragment = target.partition("#")
        resolved = (document.parent / path_part).resolve() if path_part else document
        if ROOT not in resolved.parents and resolved != ROOT:
            broken.append(f"{target}: outside the repository")
        elif not resolved.exists():
            broken.append(f"{target}: no such file")
        elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
            broken.append(f"{target}: no heading #{fragment} in {resolved.relative_to(ROOT)}")
    assert not broken, f"{document.relative_to(ROOT)}: " + "; ".join(broken)


def test_documents_link_the_api_reference_and_the_design():
    assert (ROOT / "docs" / "genesys-api.md").is_file() and (ROOT / "docs" / "design.md").is_file()
    readme = relative_links(ROOT / "README.md")
    assert "docs/design.md" in readme and any(t.startswith("docs/genesys-api.md") for t in readme)


def test_nothing_points_outside_the_repository():
    offenders = [f"{path.relative_to(ROOT)}:{text.count(needle)}× {needle}"
                 for path, text in text_files() for needle in OUTSIDE if needle in text]
    assert not offenders, "references to files a clone does not have: " + ", ".join(offenders)
