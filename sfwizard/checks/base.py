"""Check results, the registry, and the runner that keeps one failure from stopping the rest."""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from sfwizard.cancel import NEVER, Cancelled, CancelToken, Progress, ProgressFn, no_progress
from sfwizard.errors import SfwizardError

log = logging.getLogger("sfwizard")


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


@dataclass(frozen=True)
class CheckSpec:
    id: str
    title: str
    step: str
    func: Callable[[Any], Outcome]
    profiles: tuple[str, ...]
    needs: tuple[str, ...]  # "salesforce", "platform", "status", "snapshot"


REGISTRY: dict[str, CheckSpec] = {}


def check(id: str, title: str, step: str, *, profiles: Iterable[str] = ("gainsight-px", "skilljar"),
          needs: Iterable[str] = ("salesforce",)) -> Callable[[Callable[[Any], Outcome]], Callable[[Any], Outcome]]:
    """Register a check function ``f(ctx) -> Outcome``."""

    def deco(func: Callable[[Any], Outcome]) -> Callable[[Any], Outcome]:
        if id in REGISTRY:
            raise ValueError(f"duplicate check id {id}")
        REGISTRY[id] = CheckSpec(id, title, step, func, tuple(profiles), tuple(needs))
        return func

    return deco


def specs_for(profile: str, only: Iterable[str] | None = None, steps: Iterable[str] | None = None) -> list[CheckSpec]:
    from sfwizard import checks  # noqa: F401 - importing the package registers every check

    wanted = set(only or ())
    unknown = wanted - set(REGISTRY)
    if unknown:
        raise SfwizardError(f"unknown check id(s): {', '.join(sorted(unknown))}",
                            "list them with: sfwizard check --list")
    step_set = set(steps or ())
    order = {s: i for i, (s, _) in enumerate(STEPS)}
    out = [s for s in REGISTRY.values() if profile in s.profiles
           and (not wanted or s.id in wanted) and (not step_set or s.step in step_set)]
    return sorted(out, key=lambda s: order.get(s.step, 99))


def run_checks(ctx: Any, specs: list[CheckSpec], *, cancel: CancelToken = NEVER,
               progress: ProgressFn = no_progress,
               on_result: Callable[[CheckResult], None] | None = None) -> list[CheckResult]:
    """Run each check; an error becomes that check's result, a used-up API limit (or a lost sign-in)
    stops the rest of the Salesforce checks."""
    from sfwizard.integrations.salesforce import ApiError, ApiLimitExceeded
    from sfwizard.integrations.signin import SignInRequired

    results: list[CheckResult] = []
    stop_reason = ""
    for i, spec in enumerate(specs):
        progress(Progress(spec.title, i, len(specs)))
        started = time.monotonic()
        if stop_reason and "salesforce" in spec.needs:  # the rest (platform, troubleshooting) still runs
            outcome = skipped("not run: " + stop_reason, stop_reason)
        else:
            missing = [n for n in spec.needs if not ctx.has(n)]
            try:
                cancel.check()
                outcome = skipped(ctx.why_missing(missing[0]), ctx.why_missing(missing[0])) if missing \
                    else spec.func(ctx)
            except Cancelled:
                raise
            except SignInRequired as exc:
                stop_reason = "the Salesforce sign-in is no longer valid (sign in again: sfwizard login)"
                ctx.sign_in_required = True
                outcome = fail(exc.message, "the token was revoked or expired and could not be refreshed",
                               exc.hint)
            except ApiLimitExceeded as exc:
                stop_reason = "the Salesforce API limit is used up"
                outcome = fail("Salesforce's daily API limit is used up", exc.message, exc.hint)
            except ApiError as exc:
                outcome = fail(f"Salesforce refused a call: {exc.code}", exc.message,
                               exc.hint or "see the cause; fix it and run the check again", errorCode=exc.code)
            except SfwizardError as exc:
                outcome = fail(exc.message, exc.message, exc.hint or "fix the cause and run the check again")
            except Exception as exc:  # a bug in a check must not hide the others' results
                log.exception("check %s crashed", spec.id)
                outcome = fail(f"the check itself failed: {type(exc).__name__}", str(exc),
                               "run again with --debug and send the support bundle")
        result = CheckResult(spec.id, spec.title, outcome.status, outcome.summary, outcome.evidence,
                             outcome.cause, outcome.resolution, spec.step,
                             int((time.monotonic() - started) * 1000))
        results.append(result)
        ctx.results[spec.id] = result
        if on_result:
            on_result(result)
    progress(Progress("Checks done", len(specs), len(specs)))
    return results
