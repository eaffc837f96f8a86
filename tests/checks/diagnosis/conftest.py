"""What the diagnosis tests share: ``sfwizard check --demo --json`` run in-process on a scenario file."""

from __future__ import annotations

import json
import logging
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``run_cli(*argv)`` → (exit code, stdout, stderr) of ``sfwizard`` run in-process.

    ``main`` sets up logging on stderr; the handlers it adds are removed after each run, so the next run
    (another test's captured stderr) does not log into a closed stream.
    """
    from sfwizard.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        root = logging.getLogger()
        handlers, level = root.handlers[:], root.level
        capsys.readouterr()
        try:
            code = main(list(argv))
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


@pytest.fixture
def check_json(run_cli: Callable[..., tuple[int, str, str]]) -> Callable[..., dict[str, Any]]:
    """``check_json(scenario, *args)`` → the JSON document, with ``by_id`` added (id → result)."""

    def run(scenario: str | Path, *args: str) -> dict[str, Any]:
        code, out, _ = run_cli("check", "--demo", "--scenario", str(scenario), "--json", *args)
        doc = json.loads(out)
        assert doc["exit_code"] == code
        doc["by_id"] = {r["id"]: r for r in doc["results"]}
        return doc

    return run


@pytest.fixture
def scenario_file(tmp_path: Path) -> Callable[[str], str]:
    """``scenario_file(yaml_text)`` → the path of a scenario file holding it (dedented)."""
    counter = iter(range(1000))

    def write(body: str) -> str:
        path = tmp_path / f"scenario-{next(counter)}.yaml"
        path.write_text(textwrap.dedent(body).lstrip())
        return str(path)

    return write


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry backoff in milliseconds: an unreachable org is retried as in production, just not slowly."""
    from sfwizard.integrations import transport

    monkeypatch.setattr(transport.RetryPolicy.__init__, "__defaults__", (4, 0.01, 0.05))
