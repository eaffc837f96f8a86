"""Check results, the registry decorator and the helpers a check returns its outcome through.

The runner (``sfwizard.checks.runner``) imports the check modules and runs them; this module imports
none of them, so the checks package has no import cycle.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
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


# Wizard steps, in order (the Textual wizard and the report group checks by these).
STEPS = (
    ("before", "Before you begin"),
    ("connect", "Connect Salesforce"),
    ("impact", "Impact"),
    ("mappings", "Document mappings"),
    ("reauthorize", "Re-authorize"),
    ("sync", "Manual sync / backfill"),
    ("validate", "Validate both directions"),
    ("knowledge", "Knowledge base"),
    ("troubleshoot", "Troubleshooting"),
)

# "data_org": the wizard is signed in to the org the platform's data lives in (the snapshot's org), or
# nothing says otherwise. A check that reads the integration's own state in Salesforce needs it: in another
# org its findings (fields missing, no token, no Knowledge) would only be consequences of the wrong org.
NEEDS = ("salesforce", "platform", "status", "snapshot", "data_org")

CheckFunc = Callable[["CheckContext"], Outcome]


@dataclass(frozen=True)
class CheckSpec:
    id: str
    title: str
    step: str
    func: CheckFunc
    profiles: tuple[str, ...]
    needs: tuple[str, ...]  # from NEEDS
    reads_results: bool = False  # judged from the other checks' results: runs after every other check


REGISTRY: dict[str, CheckSpec] = {}


def check(id: str, title: str, step: str, *, profiles: Iterable[str] = ("gainsight-px", "skilljar"),
          needs: Iterable[str] = ("salesforce",), reads_results: bool = False) -> Callable[[CheckFunc], CheckFunc]:
    """Register a check function ``f(ctx) -> Outcome``; ``reads_results``: it reads ``ctx.results`` (the
    troubleshooting symptoms), so the runner runs it once every other check has finished."""
    needs = tuple(needs)
    unknown = set(needs) - set(NEEDS)
    if unknown:
        raise ValueError(f"check {id}: unknown needs {sorted(unknown)}")

    def deco(func: CheckFunc) -> CheckFunc:
        if id in REGISTRY:
            raise ValueError(f"duplicate check id {id}")
        REGISTRY[id] = CheckSpec(id, title, step, func, tuple(profiles), needs, reads_results)
        return func

    return deco
