"""What the diagnosis tests share: ``sfwizard check --demo --json`` run in-process on a scenario file."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def check_json(capsys: pytest.CaptureFixture[str]) -> Callable[..., dict[str, Any]]:
    """``check_json(scenario, *args)`` → the JSON document, with ``by_id`` added (id → result)."""
    from sfwizard.cli import main

    def run(scenario: str | Path, *args: str) -> dict[str, Any]:
        capsys.readouterr()
        code = main(["check", "--demo", "--scenario", str(scenario), "--json", *args])
        out = capsys.readouterr().out
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
