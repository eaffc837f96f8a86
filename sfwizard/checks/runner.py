"""The runner: every check module registered in step order, chosen by profile, run so that one
failure never stops the rest."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from sfwizard.cancel import NEVER, Cancelled, CancelToken, Progress, ProgressFn, no_progress
from sfwizard.checks import (  # noqa: F401 - importing a check module registers its checks
    before,
    dataflow,
    identity,
    knowledge,
    mappings,
    permissions,
    proactive,
    skilljar,
    token,
    troubleshoot,
)
from sfwizard.checks.base import REGISTRY, STEPS, CheckResult, CheckSpec, Outcome, fail, skipped
from sfwizard.checks.context import CheckContext
from sfwizard.errors import SfwizardError

__all__ = ["REGISTRY", "STEPS", "run_checks", "specs_for"]

log = logging.getLogger("sfwizard")


def specs_for(profile: str, only: Iterable[str] | None = None, steps: Iterable[str] | None = None) -> list[CheckSpec]:
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


def run_checks(ctx: CheckContext, specs: list[CheckSpec], *, cancel: CancelToken = NEVER,
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
        outcome: Outcome
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

