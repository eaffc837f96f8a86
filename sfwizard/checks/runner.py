"""The runner: every check module registered in step order, chosen by profile, run so that one
failure never stops the rest."""

from __future__ import annotations

import logging
import sys
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
from sfwizard.checks.reasons import problem as reason_problem
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
    """Run each check; an error becomes that check's result, a used-up API limit, a lost sign-in or an
    org that does not answer stops the rest of the Salesforce checks."""
    from sfwizard.integrations.salesforce import ApiError, ApiLimitExceeded, SalesforceUnreachable
    from sfwizard.integrations.signin import SignInRequired

    results: list[CheckResult] = []
    stopped: tuple[str, str] | None = None  # (skip reason, words) once the Salesforce checks must stop
    for i, spec in enumerate(specs):
        progress(Progress(spec.title, i, len(specs)))
        started = time.monotonic()
        outcome: Outcome
        if stopped and "salesforce" in spec.needs:  # the rest (platform, troubleshooting) still runs
            outcome = skipped(stopped[0], "not run: " + stopped[1], stopped[1])
        else:
            try:
                missing = [n for n in spec.needs if not ctx.has(n)]
                cancel.check()
                if missing:
                    why = ctx.why_missing(missing[0])
                    outcome = skipped(ctx.missing_reason(missing[0]), why, why)
                else:
                    outcome = spec.func(ctx)
            except Cancelled:
                raise
            except SignInRequired as exc:
                stopped = ("skip.signin_required",
                           "the Salesforce sign-in is no longer valid (sign in again: sfwizard login)")
                ctx.sign_in_required = True
                outcome = fail("signin.required", exc.message,
                               "the token was revoked or expired and could not be refreshed", exc.hint)
            except ApiLimitExceeded as exc:
                stopped = ("skip.limit_exceeded", "the Salesforce API limit is used up")
                outcome = fail("salesforce.limit_exceeded", "Salesforce's daily API limit is used up",
                               exc.message, exc.hint, errorCode=exc.code)
            except ApiError as exc:
                outcome = fail("salesforce.refused", f"Salesforce refused a call: {exc.code}", exc.message,
                               exc.hint or "see the cause; fix it and run the check again", errorCode=exc.code)
            except SalesforceUnreachable as exc:
                # Asking again, check after check, only waits out the same timeouts: the rest is not run.
                stopped = ("skip.unreachable", "Salesforce could not be reached")
                outcome = fail("net.unreachable", exc.message, "the org did not answer: nothing was checked there",
                               exc.hint or "check the network, then run the checks again", service="salesforce")
            except SfwizardError as exc:
                code = "net.tls_untrusted" if exc.kind == "tls" else \
                    "net.unreachable" if unreachable(exc) else "service.error"
                outcome = fail(code, exc.message, exc.message, exc.hint or "fix the cause and run the check again")
            except Exception as exc:  # a bug in a check must not hide the others' results
                log.exception("check %s crashed", spec.id)
                outcome = fail("check.crashed", f"the check itself failed: {type(exc).__name__}", str(exc),
                               "run again with --debug and send the support bundle",
                               exception=type(exc).__name__)
        if outcome.reason in ("net.unreachable", "skip.unreachable"):
            ctx.unreachable.append(spec.id)
        wrong = reason_problem(outcome.status.value, outcome.reason)
        if wrong:
            log.warning("check %s: %s", spec.id, wrong)
        result = CheckResult(spec.id, spec.title, outcome.status, outcome.summary, outcome.evidence,
                             outcome.cause, outcome.resolution, spec.step,
                             int((time.monotonic() - started) * 1000), reason=outcome.reason)
        results.append(result)
        ctx.results[spec.id] = result
        if on_result:
            on_result(result)
    progress(Progress("Checks done", len(specs), len(specs)))
    return results


def unreachable(exc: BaseException) -> bool:
    """Whether an SfwizardError came from a failed, dropped or timed-out connection.

    The transport raises its one-line errors ``from None``, which hides the original exception from
    tracebacks but keeps it as ``__context__``: a socket error (OSError, which requests' errors are)
    or an httpx transport error there means the service was not reached. An explicit ``kind``
    attribute, once the transport sets one, takes precedence.
    """
    kind = getattr(exc, "kind", "")
    if kind:
        return kind == "unreachable"
    httpx = sys.modules.get("httpx")  # only an already imported httpx can have raised
    seen: BaseException | None = exc.__cause__ or exc.__context__
    for _ in range(10):  # a bounded walk down the chain
        if seen is None:
            return False
        if isinstance(seen, OSError) or (httpx is not None and isinstance(seen, httpx.TransportError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
