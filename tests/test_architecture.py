"""The code keeps the layering docs/architecture.md draws: every import in portal/ is read (those in
functions too), each module is placed in its part by the document's table, and an import the table
does not allow, an import circle between modules, or an import of a portal module inside a function
fails here with the place it is written."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PORTAL = ROOT / "portal"
DOCUMENT = ROOT / "docs" / "architecture.md"


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported portal module
    line: int
    in_function: bool


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def portal_modules() -> dict[str, Path]:
    return {_module_name(path): path for path in PORTAL.rglob("*.py") if "migrations" not in path.parts}


def _targets(node, modules) -> list[str]:
    """The portal modules an import statement loads (``from portal import clock`` is portal.clock)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif node.module and node.level == 0:
        names = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                 for alias in node.names]
    else:
        return []
    found = []
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name.startswith("portal"):
            found.append(name)
    return found


def _imports_of(module: str, path: Path, modules) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.extend(Import(module, target, child.lineno, in_function)
                             for target in _targets(child, modules) if target != module)
            visit(child, nested)

    visit(tree, False)
    return found


def all_imports() -> list[Import]:
    modules = portal_modules()
    return [found for module, path in modules.items() for found in _imports_of(module, path, modules)]


# --- the document's table ----------------------------------------------------------------------


def layering() -> tuple[dict[str, list[str]], dict[str, set[str]], str]:
    """(part → its files or folders, part → parts it may import, the part of everything else)."""
    rows = re.findall(r"^\| (\w+) \| (.+?) \| (.+?) \|$", DOCUMENT.read_text(encoding="utf-8"), re.MULTILINE)
    places, allowed, rest = {}, {}, None
    for part, files, may in rows:
        if part == "part":
            continue
        if files.strip().startswith("every other"):
            rest = part
            places[part] = []
        else:
            places[part] = re.findall(r"`([^`]+)`", files)
        allowed[part] = {name.strip() for name in may.split(",")}
    assert rest, "the table names no part for every other module"
    return places, allowed, rest


def part_of(module: str, places: dict[str, list[str]], rest: str) -> str:
    path = module.replace(".", "/")
    for part, entries in places.items():
        for entry in entries:
            if entry.endswith("/") and (path + "/").startswith(entry):
                return part
            if entry.endswith(".py") and (path + ".py" == entry or path + "/__init__.py" == entry):
                return part
    return rest


def _registers_own_module(found: Import) -> bool:
    """A package's __init__ importing its own modules so that their routes join its blueprint."""
    return found.target.startswith(found.source + ".")


# --- the tests -----------------------------------------------------------------------------------


def test_the_table_places_every_part_it_names_and_only_real_files():
    places, allowed, _rest = layering()
    for part, entries in places.items():
        for entry in entries:
            assert (ROOT / entry).exists(), f"{part}: {entry} does not exist"
    for part, may in allowed.items():
        assert may <= set(places) | {"every part"}, f"{part} may import unknown parts: {may - set(places)}"


def test_every_import_follows_the_documented_direction():
    places, allowed, rest = layering()
    wrong = []
    for found in all_imports():
        source, target = part_of(found.source, places, rest), part_of(found.target, places, rest)
        if source != target and "every part" not in allowed[source] and target not in allowed[source]:
            wrong.append(f"{found.source}:{found.line} imports {found.target} ({source} → {target})")
    assert not wrong, "\n".join(wrong)


def test_no_portal_module_is_imported_inside_a_function():
    inside = [f"{found.source}:{found.line} imports {found.target}" for found in all_imports() if found.in_function]
    assert not inside, "\n".join(inside)


def test_no_import_circle_between_modules():
    graph: dict[str, set[str]] = {}
    for found in all_imports():
        if not _registers_own_module(found):
            graph.setdefault(found.source, set()).add(found.target)
    circles = [component for component in _strongly_connected(graph) if len(component) > 1]
    assert not circles, "\n".join(" ↔ ".join(sorted(component)) for component in circles)


def _strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components = []
    counter = 0
    for start in list(graph):
        if start in index:
            continue
        work = [(start, iter(graph.get(start, ())))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


@pytest.mark.parametrize("source, target, expected", [
    ("portal.staff.services", "portal.tickets.services", "Staff → Tickets"),
    ("portal.access", "portal.staff.models", "Gate → Staff"),
    ("portal.db", "portal.account.models", "Core → Customer"),
])
def test_the_check_catches_a_forbidden_import(source, target, expected):
    """The check itself: imports the table forbids are found as such."""
    places, allowed, rest = layering()
    source_part, target_part = part_of(source, places, rest), part_of(target, places, rest)
    assert f"{source_part} → {target_part}" == expected
    assert target_part not in allowed[source_part]


def test_the_circle_finder_finds_a_circle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert [component for component in _strongly_connected(graph) if len(component) > 1] == [{"a", "b", "c"}]
