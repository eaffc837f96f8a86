"""The checks package's own shape: no import circle among its modules — counting imports made for type hints only
and imports inside functions, which import-linter's contracts leave out — and a context split by subject."""

from __future__ import annotations

import ast
from pathlib import Path

CHECKS = Path(__file__).resolve().parents[2] / "sfwizard" / "checks"


def _imports() -> dict[str, set[str]]:
    """module → the sibling modules it imports, anywhere in its text (TYPE_CHECKING blocks, functions)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(CHECKS.glob("*.py")):
        name = path.stem
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "sfwizard.checks":
                    found |= {a.name for a in node.names}
                elif node.module.startswith("sfwizard.checks."):
                    found.add(node.module.split(".")[2])
            elif isinstance(node, ast.Import):
                found |= {a.name.split(".")[2] for a in node.names if a.name.startswith("sfwizard.checks.")}
        graph[name] = found - {name}
    return graph


def _circle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle, as the modules on it, or []."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for child in sorted(graph.get(node, ())):
            if state.get(child) == 1:
                return path[path.index(child):] + [child]
            if child not in state:
                found = visit(child)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def test_no_import_circle_in_the_checks_package_even_for_type_hints() -> None:
    graph = _imports()
    assert _circle(graph) == []


def test_the_context_and_the_results_never_import_the_registry() -> None:
    graph = _imports()
    for module in ("results", "reads", "memo", "batching", "soql", "salesforce_facts", "platform_facts",
                   "snapshot_facts", "context"):
        assert "base" not in graph[module], module
    assert graph["results"] == set()  # plain data: what every consumer shares


def test_the_circle_finder_finds_one() -> None:
    assert _circle({"base": {"context"}, "context": {"results", "base"}, "results": set()}) == \
        ["base", "context", "base"]
