"""What a check run produces: a result's status, the result itself, and the outcome a check function returns.

Plain data only: this module imports nothing from the rest of the checks, so the registry (``base``), the
context the checks read (``context``) and every consumer (the CLI, the wizard, the report) can share it
without an import circle, at run time or for type hints.
"""

from __future__ import annotations

import copy
import enum
from dataclasses import dataclass, field, fields
from typing import Any


class Status(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    MANUAL = "manual"  # only a person can confirm this; the wizard asks
    SKIPPED = "skipped"


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    status: Status
    summary: str  # one line a screen can show as it is
    evidence: dict[str, Any] = field(default_factory=dict)  # counts, Ids, timestamps, names
    cause: str = ""  # when not passing: why
    resolution: str = ""  # when not passing: what to do
    step: str = ""
    elapsed_ms: int = 0
    reason: str = ""  # a code from sfwizard.checks.reasons; "" when passing

    def to_dict(self) -> dict[str, Any]:
        """The result as ``check --json`` and the session store it (keys in the documented order)."""
        return {"id": self.id, "title": self.title, "step": self.step, "status": self.status.value,
                "reason": self.reason, "summary": self.summary, "evidence": copy.deepcopy(self.evidence),
                "cause": self.cause, "resolution": self.resolution, "elapsed_ms": self.elapsed_ms}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckResult:
        """Also reads results saved before reasons existed (their reason is "") and ignores fields a
        newer version added."""
        known = {f.name for f in fields(cls)} - {"status", "reason"}
        return cls(**{k: v for k, v in d.items() if k in known}, status=Status(d["status"]),
                   reason=d.get("reason", ""))


@dataclass(frozen=True)
class Outcome:
    """What a check function returns; the runner adds id, title, step and timing."""

    status: Status
    reason: str  # "" for a pass, else a catalogued code (sfwizard/checks/reasons.py)
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    cause: str = ""
    resolution: str = ""


def ok(summary: str, **evidence: Any) -> Outcome:
    return Outcome(Status.PASS, "", summary, evidence)


def fail(reason: str, summary: str, cause: str, resolution: str, **evidence: Any) -> Outcome:
    return Outcome(Status.FAIL, reason, summary, evidence, cause, resolution)


def warn(reason: str, summary: str, cause: str, resolution: str, **evidence: Any) -> Outcome:
    return Outcome(Status.WARN, reason, summary, evidence, cause, resolution)


def manual(reason: str, summary: str, resolution: str = "", **evidence: Any) -> Outcome:
    return Outcome(Status.MANUAL, reason, summary, evidence, "", resolution)


def skipped(reason: str, summary: str, cause: str = "", **evidence: Any) -> Outcome:
    return Outcome(Status.SKIPPED, reason, summary, evidence, cause, "")
