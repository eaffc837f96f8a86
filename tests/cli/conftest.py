"""Commands as a person runs them: ``python -m sfwizard …`` in a child process, in the test's SFWIZARD_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_cli(*args, env={...}, timeout=60)``: run sfwizard and wait for it; stdout and stderr as text."""
    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "sfwizard", *args], capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, **(env or {})}, timeout=timeout)

    return run
