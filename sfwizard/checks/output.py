"""The machine-readable record of a check run: the one JSON object ``sfwizard check --json`` prints.

``SCHEMA`` versions it. Fields may be added without a bump; renaming or removing a field, changing
its meaning, or renaming a reason code bumps it (README, "Machine-readable output").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sfwizard import __version__
from sfwizard.checks.base import CheckResult, Status

SCHEMA = 1


def run_document(results: Sequence[CheckResult], *, profile: str, exit_code: int,
                 api_calls: Mapping[str, int]) -> dict[str, Any]:
    """The run as one JSON-ready object: results in run order, each with its reason code."""
    return {
        "schema": SCHEMA,
        "tool": f"sfwizard {__version__}",
        "profile": profile,
        "exit_code": exit_code,
        "counts": {s.value: sum(1 for r in results if r.status == s) for s in Status},
        "api_calls": dict(sorted(api_calls.items())),
        "results": [r.to_dict() for r in results],
    }
