"""The layout of `wrapup_portal/`: each concept has one home and imports go one way.

Every module is parsed with `ast`, imports inside functions included, so a dependency cannot
hide in a function body. README.md ("Architecture") explains the order declared in LAYERS.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps

PACKAGE = "wrapup_portal"
PORTAL = Path(__file__).resolve().parent.parent / PACKAGE

# Lowest first. An app may import its own modules and the apps on layers below its own,
# never an app on its own layer or above: decide a direction (and move it here) first.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("audit",),  # every app records its events through audit; audit imports no app
    ("core",),  # shell: layout, navigation, health, error pages (a refusal is audited)
    ("catalog",),  # code groups, codes, sync runs
    ("accounts",),  # sign-in and queue grants, which point at catalog's code groups
    ("assignments",),  # the life cycle of a code written to a leg; its forms and pages
    ("interactions",),  # search, detail, live board, with the assignment forms on them
    ("overview",),  # each role's landing page: reads every app below, nothing imports it
)

# Modules that import nothing from the portal. Any module may import them, and doing so
# does not make their app a dependency.
LEAF_MODULES: dict[str, str] = {
    f"{PACKAGE}.accounts.roles": "role names and permission codenames, checked by every app's pages",
}

# Imports of portal modules inside a function or class body, keyed by (file under
# wrapup_portal/, module imported), each with the reason it cannot sit at the top.
DEFERRED_IMPORTS: dict[tuple[str, str], str] = {
    ("accounts/apps.py", f"{PACKAGE}.accounts.signals"):
        "AppConfig.ready() connects the signal handlers once every model is loaded (Django's documented place)",
    ("audit/apps.py", f"{PACKAGE}.audit.signals"):
        "AppConfig.ready() connects the cluster-start handler once every model is loaded (Django's documented place)",
    ("core/selectors.py", f"{PACKAGE}.core.genesys"):
        "the health check builds the Genesys client only when it runs; same app, so no cycle can hide here",
}


@dataclass(frozen=True)
class Import:
    path: str  # relative to wrapup_portal/
    line: int
    importer: str  # dotted module name
    target: str  # dotted module name, as precise as the statement allows
    deferred: bool  # inside a function or class body

    def __str__(self) -> str:
        where = "inside a function" if self.deferred else "at the top"
        return f"{PACKAGE}/{self.path}:{self.line} imports {self.target} ({where})"


def module_name(path: Path) -> str:
    parts = path.relative_to(PORTAL.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


class _ImportCollector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool) -> None:
        self.package = module if is_package else module.rpartition(".")[0]
        self.found: list[tuple[int, str, tuple[str, ...], bool]] = []  # line, module, names, deferred
        self._depth = 0

    def _nested(self, node: ast.AST) -> None:
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = visit_Lambda = _nested

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.found.append((node.lineno, alias.name, (), self._depth > 0))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            # `from . import x` / `from ..y import z`: resolve against this module's package.
            anchor = self.package.split(".")[: len(self.package.split(".")) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        self.found.append((node.lineno, base, tuple(a.name for a in node.names), self._depth > 0))


def imports_in(source: str, *, path: str, module: str, is_package: bool, known: set[str]) -> list[Import]:
    """Every import of a portal module in `source`, at any depth."""
    collector = _ImportCollector(module, is_package)
    collector.visit(ast.parse(source, filename=path))
    found = []
    for line, base, names, deferred in collector.found:
        # `from wrapup_portal.accounts import roles` imports the module accounts.roles.
        targets = [f"{base}.{n}" if f"{base}.{n}" in known else base for n in names] or [base]
        for target in dict.fromkeys(targets):
            if target == PACKAGE or target.startswith(PACKAGE + "."):
                found.append(Import(path, line, module, target, deferred))
    return found


def scan(files: list[Path]) -> list[Import]:
    known = {module_name(f) for f in files}
    found = []
    for file in files:
        found += imports_in(file.read_text(), path=str(file.relative_to(PORTAL)), module=module_name(file),
                            is_package=file.name == "__init__.py", known=known)
    return found


FILES = sorted(PORTAL.rglob("*.py"))
MODULES = {module_name(f) for f in FILES}
APPS = sorted(p.parent.name for p in PORTAL.glob("*/apps.py"))
IMPORTS = scan(FILES)


def app_of(module: str) -> str | None:
    """The app a portal module belongs to; None for the project's own settings, urls and wsgi."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in APPS else None


def layer_of(app: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if app in layer)


def app_edges(found: Iterable[Import]) -> Iterator[tuple[str, str, Import]]:
    """(importing app, imported app, evidence) for each import that crosses apps, leaves aside."""
    for imp in found:
        src, dst = app_of(imp.importer), app_of(imp.target)
        if src is not None and imp.target not in LEAF_MODULES and src != dst:
            yield src, dst or "<project>", imp


def tangles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Groups of apps that import each other, directly or round a loop (Tarjan's SCCs)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = {stack.pop()}
            while node not in group:
                group.add(stack.pop())
            if len(group) > 1:
                found.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_app_has_a_place_in_the_layers() -> None:
    placed = [app for layer in LAYERS for app in layer]
    assert len(placed) == len(set(placed)), "an app appears on two layers"
    assert set(APPS) == set(placed), f"apps: {APPS}; layers: {placed}"


def test_the_scanner_sees_relative_and_function_level_imports() -> None:
    source = (
        "from . import views\n"
        "from .models import Thing\n"
        "def f():\n"
        "    from wrapup_portal.audit.services import audit_record\n"
        "class C:\n"
        "    import wrapup_portal.core.genesys\n"
    )
    known = {"wrapup_portal.catalog.views", "wrapup_portal.catalog.models"}
    found = imports_in(source, path="catalog/x.py", module="wrapup_portal.catalog.x", is_package=False, known=known)
    assert [(i.target, i.deferred) for i in found] == [
        ("wrapup_portal.catalog.views", False),
        ("wrapup_portal.catalog.models", False),
        ("wrapup_portal.audit.services", True),
        ("wrapup_portal.core.genesys", True),
    ]
    # And on the real tree: a known top-level import and a known deferred one.
    assert any(i.path == "catalog/services.py" and i.target == f"{PACKAGE}.audit.services" for i in IMPORTS)
    assert any(i.path == "accounts/apps.py" and i.deferred for i in IMPORTS)


def test_the_cycle_finder_sees_direct_and_roundabout_loops() -> None:
    assert tangles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [{"a", "b"}]
    assert tangles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [{"a", "b", "c"}]
    assert tangles({"a": {"b"}, "b": {"c"}}) == []


def test_app_imports_have_no_cycle() -> None:
    graph: dict[str, set[str]] = {}
    evidence: dict[tuple[str, str], Import] = {}
    for src, dst, imp in app_edges(IMPORTS):
        graph.setdefault(src, set()).add(dst)
        evidence.setdefault((src, dst), imp)
    report = [
        f"{' <-> '.join(sorted(group))}:\n" + "\n".join(
            f"  {imp}" for (src, dst), imp in sorted(evidence.items()) if src in group and dst in group
        )
        for group in tangles(graph)
    ]
    assert report == [], "apps that import each other:\n" + "\n".join(report)


def test_apps_import_only_the_layers_below_them() -> None:
    wrong = [
        f"{imp}: {src} may not import {dst}"
        for src, dst, imp in app_edges(IMPORTS)
        if dst == "<project>" or layer_of(dst) >= layer_of(src)
    ]
    assert wrong == [], "\n".join(wrong)


def test_model_relations_follow_the_layers() -> None:
    # A relation declared as a string ("catalog.CodeGroup") is a dependency no import shows.
    crossing = {
        (model._meta.label, field.name, field.related_model._meta.app_label)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.is_relation and not field.auto_created and field.related_model is not None
        and model._meta.app_label in APPS and field.related_model._meta.app_label in APPS
        and field.related_model._meta.app_label != model._meta.app_label
    }
    assert ("accounts.QueueGrant", "code_group", "catalog") in crossing  # the check sees string relations
    wrong = [c for c in crossing if layer_of(c[2]) >= layer_of(c[0].partition(".")[0])]
    assert wrong == []


def test_leaf_modules_import_nothing_from_the_portal() -> None:
    assert set(LEAF_MODULES) <= MODULES
    leaked = [str(i) for i in IMPORTS if i.importer in LEAF_MODULES]
    assert leaked == [], "\n".join(leaked)


def test_no_function_level_portal_imports_outside_the_allowlist() -> None:
    hidden = [str(i) for i in IMPORTS if i.deferred and (i.path, i.target) not in DEFERRED_IMPORTS]
    assert hidden == [], "move these to the top of the module (or justify them in DEFERRED_IMPORTS):\n" + "\n".join(hidden)


def test_every_allowlisted_deferred_import_still_exists() -> None:
    present = {(i.path, i.target) for i in IMPORTS if i.deferred}
    stale = sorted(set(DEFERRED_IMPORTS) - present)
    assert stale == [], f"remove from DEFERRED_IMPORTS: {stale}"
