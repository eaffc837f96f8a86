"""The architecture as tests: import-linter's contracts, no import cycles, a headless core, one installed
namespace. They read the code as it installs (screens/ becomes sfwizard.screens), not as it sits here."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sfwizard/ with screens/ placed where it installs (sfwizard/screens), sources only."""
    root = tmp_path_factory.mktemp("tree")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "sfwizard", root / "sfwizard", ignore=ignore)
    shutil.copytree(REPO / "screens", root / "sfwizard" / "screens", ignore=ignore)
    return root


def test_import_contracts_hold(installed_tree: Path) -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint), str(REPO / "pyproject.toml"), "--no-cache"], cwd=installed_tree,
                         env={"PYTHONPATH": str(installed_tree), "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout or "broken" not in out.stdout.lower()


def _cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in graph.modules:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_imports_another_that_imports_it_back(installed_tree: Path) -> None:
    code = ("import grimp, json, sys; sys.path.insert(0, sys.argv[1]); "
            "g = grimp.build_graph('sfwizard', exclude_type_checking_imports=True); "
            "print(json.dumps({m: sorted(g.find_modules_directly_imported_by(m)) for m in g.modules}))")
    out = subprocess.run([sys.executable, "-c", code, str(installed_tree)], capture_output=True, text=True,
                         check=True, timeout=300)
    import json

    edges = json.loads(out.stdout)

    class Graph:
        modules = set(edges)

        @staticmethod
        def find_modules_directly_imported_by(m: str) -> list[str]:
            return edges[m]

    assert _cycles(Graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    class Graph:
        modules = {"a", "b", "c", "d"}
        edges = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}

        @classmethod
        def find_modules_directly_imported_by(cls, m: str) -> list[str]:
            return cls.edges[m]

    assert _cycles(Graph) == [["a", "b", "c"]]


def test_every_package_folder_is_installed() -> None:
    """pyproject lists packages by hand (screens/ maps to sfwizard.screens): a new folder must be listed."""
    conf = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(conf["packages"])
    on_disk = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "sfwizard").rglob("__init__.py")
               if "__pycache__" not in p.parts}
    on_disk |= {"sfwizard.screens." + ".".join(p.parent.relative_to(REPO / "screens").parts)
                for p in (REPO / "screens").rglob("__init__.py") if p.parent != REPO / "screens"}
    on_disk.add("sfwizard.screens")
    assert on_disk == listed
    assert conf["package-dir"] == {"sfwizard.screens": "screens"}


def test_no_generic_screens_module_is_installed() -> None:
    """Outside the repository, `import screens` finds nothing; sfwizard.screens is the package."""
    code = ("import importlib.util as u; "
            "print(u.find_spec('screens') is None, u.find_spec('sfwizard.screens') is not None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/")
    assert out.stdout.split() == ["True", "True"]


@pytest.mark.parametrize("argv", [["check", "--help"], ["--help"], ["scenarios"]])
def test_the_cli_starts_without_textual_or_network_libraries(argv: list[str]) -> None:
    code = ("import sys\nfrom sfwizard.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print('LOADED=' + ','.join(m for m in ('textual', 'simple_salesforce', 'httpx', 'requests') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True, cwd="/")
    assert out.stdout.strip().splitlines()[-1] == "LOADED="


def test_the_core_and_the_checks_load_without_textual() -> None:
    code = ("import sys, sfwizard.recovery.client, sfwizard.recovery.connection, sfwizard.checks, sfwizard.demo; "
            "print('textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="/")
    assert out.stdout.strip() == "False"
