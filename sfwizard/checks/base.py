"""Check results, the registry decorator and the helpers a check returns its outcome through.

The runner (``sfwizard.checks.runner``) imports the check modules and runs them; this module imports
none of them, so the checks package has no import cycle.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sfwizard.checks.context import CheckContext


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

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["status"] = self.status.value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckResult:
        return cls(**{**d, "status": Status(d["status"])})


@dataclass(frozen=True)
class Outcome:
    """What a check function returns; the runner adds id, title, step and timing."""

    status: Status
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    cause: str = ""
    resolution: str = ""


def ok(summary: str, **evidence: Any) -> Outcome:
    return Outcome(Status.PASS, summary, evidence)


def fail(summary: str, cause: str, resolution: str, **evidence: Any) -> Outcome:
    return Outcome(Status.FAIL, summary, evidence, cause, resolution)


def warn(summary: str, cause: str, resolution: str, **evidence: Any) -> Outcome:
    return Outcome(Status.WARN, summary, evidence, cause, resolution)


def manual(summary: str, resolution: str = "", **evidence: Any) -> Outcome:
    return Outcome(Status.MANUAL, summary, evidence, "", resolution)


def skipped(summary: str, cause: str = "", **evidence: Any) -> Outcome:
    return Outcome(Status.SKIPPED, summary, evidence, cause, "")


# Wizard steps, in order (the Textual wizard and the report group checks by these).
STEPS = (
    ("before", "Before you begin"),
    ("impact", "Impact"),
    ("mappings", "Document mappings"),
    ("reauthorize", "Re-authorize"),
    ("sync", "Manual sync / backfill"),
    ("validate", "Validate both directions"),
    ("knowledge", "Knowledge base"),
    ("troubleshoot", "Troubleshooting"),
)


NEEDS = ("salesforce", "platform", "status", "snapshot")

CheckFunc = Callable[["CheckContext"], Outcome]


@dataclass(frozen=True)
class CheckSpec:
    id: str
    title: str
    step: str
    func: CheckFunc
    profiles: tuple[str, ...]
    needs: tuple[str, ...]  # from NEEDS


REGISTRY: dict[str, CheckSpec] = {}


def check(id: str, title: str, step: str, *, profiles: Iterable[str] = ("gainsight-px", "skilljar"),
          needs: Iterable[str] = ("salesforce",)) -> Callable[[CheckFunc], CheckFunc]:
    """Register a check function ``f(ctx) -> Outcome``."""
    needs = tuple(needs)
    unknown = set(needs) - set(NEEDS)
    if unknown:
        raise ValueError(f"check {id}: unknown needs {sorted(unknown)}")

    def deco(func: CheckFunc) -> CheckFunc:
        if id in REGISTRY:
            raise ValueError(f"duplicate check id {id}")
        REGISTRY[id] = CheckSpec(id, title, step, func, tuple(profiles), needs)
        return func

    return deco
