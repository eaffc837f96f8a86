"""The runner: every check module registered in step order, chosen by profile, run concurrently so that one
failure never stops the rest.

Checks run in a bounded pool of threads while the read plan (``sfwizard.checks.prefetch``) fetches what they
will ask for in a few batched rounds; each result is handed to ``on_result`` as soon as it is known (from
the thread that made it, one call at a time), and the list returned is in registry order. The
troubleshooting symptoms, which judge the other results, run once every other check has finished.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait

from sfwizard.cancel import NEVER, Cancelled, CancelToken, Progress, ProgressFn, no_progress
from sfwizard.checks import (  # noqa: F401 - importing a check module registers its checks
    before,
    dataflow,
    identity,
    knowledge,
    mappings,
    permissions,
    proactive,
    security,
    skilljar,
    token,
    troubleshoot,
)
from sfwizard.checks.base import REGISTRY, STEPS, CheckResult, CheckSpec, Outcome, fail, skipped
from sfwizard.checks.batching import io_pool
from sfwizard.checks.context import CheckContext
from sfwizard.checks.reasons import problem as reason_problem
from sfwizard.errors import SfwizardError

__all__ = ["REGISTRY", "STEPS", "run_checks", "specs_for"]

log = logging.getLogger("sfwizard")

WORKERS = 8  # checks at once: most of their time is spent waiting on the plan's reads
IO_WORKERS = 16  # requests at once: the widest wave (platform pages, a batch, Tooling reads) fits


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
               progress: ProgressFn = no_progress, on_result: Callable[[CheckResult], None] | None = None,
               workers: int = WORKERS) -> list[CheckResult]:
    """Run the checks concurrently (at most ``workers`` at once); return their results in the order given.

    An error becomes that check's result. A used-up API limit, a lost sign-in or an org that does not answer
    stops the Salesforce checks: the first check that meets it fails with it, every Salesforce check that had
    not finished by then is skipped without another call, and the rest (platform, status page,
    troubleshooting) still runs. When the plan's first round already meets it, the Salesforce checks are
    judged one by one in registry order, so the same check fails whatever the timing. ``on_result`` is
    called once per result as it is known — from worker threads, never two calls at once; ``progress``
    likewise. A cancel stops at the next check or request and raises Cancelled.
    """
    return _Run(ctx, specs, cancel, progress, on_result, workers).go()


class _Run:
    def __init__(self, ctx: CheckContext, specs: list[CheckSpec], cancel: CancelToken, progress: ProgressFn,
                 on_result: Callable[[CheckResult], None] | None, workers: int) -> None:
        self.ctx, self.specs, self.cancel, self.progress, self.on_result = ctx, specs, cancel, progress, on_result
        self.workers = max(1, min(workers, len(specs) or 1))
        self.order = {spec.id: i for i, spec in enumerate(specs)}
        self.results: dict[str, CheckResult] = {}
        self.stopped: tuple[str, str] | None = None  # (skip reason, words) once the Salesforce checks must stop
        self._lock = threading.Lock()  # results, stopped, ctx.results, ctx.unreachable
        self._emit = threading.Lock()  # one on_result / progress call at a time

    def go(self) -> list[CheckResult]:
        from sfwizard.checks.prefetch import plan_and_fetch

        ctx = self.ctx
        own_io = ctx.io is None
        if own_io:
            ctx.io = io_pool(IO_WORKERS)
        ready = threading.Event()
        planner = threading.Thread(target=plan_and_fetch, args=(ctx, self.specs, ready), name="sfwizard-plan",
                                   daemon=True)
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="sfwizard-check")
        interrupted = False
        try:
            planner.start()
            main = [s for s in self.specs if not s.reads_results]
            late = [s for s in self.specs if s.reads_results]
            salesforce = [s for s in main if "salesforce" in s.needs]
            futures = [pool.submit(self.one, s) for s in main if s not in salesforce]
            while not ready.wait(0.05):  # the plan's first round: it tells whether Salesforce still answers
                self.cancel.check()
            if ctx.stopped is not None:  # already gone: judged in order, every answer is in the memo
                for spec in salesforce:
                    self.one(spec)
            else:
                futures += [pool.submit(self.one, s) for s in salesforce]
            self._wait(futures)
            self._in_order()  # the symptoms read the results in the order of the steps, as a person would
            self._wait([pool.submit(self.one, s) for s in late])
            self.cancel.check()  # a run cancelled while its last checks finished is still cancelled
        except (KeyboardInterrupt, SystemExit) as exc:
            # Ctrl-C: no more Salesforce reads, no check not yet started, and no waiting here for what is in flight
            # (it ends with its request).
            ctx.note_stop(exc)
            interrupted = True
            raise
        finally:
            pool.shutdown(wait=not interrupted, cancel_futures=True)
            if not interrupted:
                planner.join()
            if own_io and ctx.io is not None:
                ctx.io.shutdown(wait=not interrupted, cancel_futures=interrupted)
                ctx.io = None
        self._in_order()
        self._report(Progress("Checks done", len(self.specs), len(self.specs)))
        return [self.results[s.id] for s in self.specs]

    def _in_order(self) -> None:
        """ctx.results and ctx.unreachable in registry order (results kept from before this run stay first)."""
        def rank(cid: str) -> int:
            return self.order.get(cid, -1)

        with self._lock:
            ordered = sorted(self.ctx.results.items(), key=lambda kv: rank(kv[0]))
            self.ctx.results.clear()
            self.ctx.results.update(ordered)
            self.ctx.unreachable[:] = sorted(set(self.ctx.unreachable), key=rank)

    @staticmethod
    def _wait(futures: list[Future[CheckResult]]) -> None:
        """Until every check is done; a check's Cancelled (the only exception ``one`` lets out) is raised once
        the checks under way have stopped too."""
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = next((f.exception() for f in done if f.exception() is not None), None)
        if failed is not None:
            wait(futures)
            raise failed

    def one(self, spec: CheckSpec) -> CheckResult:
        from sfwizard.integrations.salesforce import ApiError, ApiLimitExceeded, PasswordExpired, SalesforceUnreachable
        from sfwizard.integrations.signin import SignInRequired

        ctx = self.ctx
        self.cancel.check()
        started = time.monotonic()
        outcome: Outcome
        with self._lock:
            stopped = self.stopped
        if stopped and "salesforce" in spec.needs:  # the rest (platform, troubleshooting) still runs
            outcome = skipped(stopped[0], "not run: " + stopped[1], stopped[1])
        else:
            try:
                missing = [n for n in spec.needs if not ctx.has(n)]
                if missing:
                    why = ctx.why_missing(missing[0])
                    outcome = skipped(ctx.missing_reason(missing[0]), why, why)
                else:
                    outcome = spec.func(ctx)
            except Cancelled:
                raise
            except (SignInRequired, ApiLimitExceeded, PasswordExpired, SalesforceUnreachable) as exc:
                outcome = self._stop(exc)
            except ApiError as exc:
                outcome = fail("salesforce.refused", f"Salesforce refused a call: {exc.code}", exc.message,
                               exc.hint or "see the cause; fix it and run the check again", errorCode=exc.code)
            except SfwizardError as exc:
                code = "net.tls_untrusted" if exc.kind == "tls" else \
                    "net.unreachable" if unreachable(exc) else "service.error"
                outcome = fail(code, exc.message, exc.message, exc.hint or "fix the cause and run the check again",
                               **({"fix": exc.fix} if exc.fix else {}))  # where the wizard sends the person
            except Exception as exc:  # a bug in a check must not hide the others' results
                log.exception("check %s crashed", spec.id)
                outcome = fail("check.crashed", f"the check itself failed: {type(exc).__name__}", str(exc),
                               "run again with --debug and send the support bundle",
                               exception=type(exc).__name__)
        wrong = reason_problem(outcome.status.value, outcome.reason)
        if wrong:
            log.warning("check %s: %s", spec.id, wrong)
        result = CheckResult(spec.id, spec.title, outcome.status, outcome.summary, outcome.evidence,
                             outcome.cause, outcome.resolution, spec.step,
                             int((time.monotonic() - started) * 1000), reason=outcome.reason)
        with self._lock:
            self.results[spec.id] = result
            ctx.results[spec.id] = result
            if outcome.reason in ("net.unreachable", "skip.unreachable"):
                ctx.unreachable.append(spec.id)
            done = len(self.results)
        with self._emit:
            if self.on_result:
                self.on_result(result)
            self.progress(Progress(spec.title, done, len(self.specs)))
        return result

    def _stop(self, exc: BaseException) -> Outcome:
        """The first check to meet a stop fails with it; one that meets it after another did is skipped."""
        self.ctx.note_stop(exc)
        with self._lock:
            if self.stopped is not None:
                return skipped(self.stopped[0], "not run: " + self.stopped[1], self.stopped[1])
            outcome, self.stopped = stop_outcome(exc)
            if outcome.reason.startswith("signin."):
                self.ctx.sign_in_required = outcome.reason == "signin.required"
            return outcome

    def _report(self, p: Progress) -> None:
        with self._emit:
            self.progress(p)


def stop_outcome(exc: BaseException) -> tuple[Outcome, tuple[str, str]]:
    """What a stop means: the failing result of the first check to meet it, and (skip reason, words) for every
    Salesforce check after it. A used-up limit, an expired password, a deactivated or frozen user are a
    diagnosis (the cause named, its fix); a lost sign-in or an org that does not answer are not."""
    from sfwizard.checks.causes import LIMIT
    from sfwizard.integrations.salesforce import ApiLimitExceeded, PasswordExpired
    from sfwizard.integrations.signin import SignInRequired

    if isinstance(exc, SignInRequired) and "inactive user" in exc.message:
        # Salesforce's OAuth answer (invalid_grant "inactive user") for a deactivated or frozen user
        why = "the signed-in Salesforce user is deactivated or frozen"
        return fail("signin.user_inactive", f"{why}: Salesforce refuses its sign-in", exc.message,
                    "reactivate or unfreeze the user (Setup → Users), or sign in as an active Salesforce admin: "
                    "sfwizard login"), ("skip.user_inactive", why)
    if isinstance(exc, SignInRequired):
        return fail("signin.required", exc.message, "the token was revoked or expired and could not be refreshed",
                    exc.hint), \
            ("skip.signin_required", "the Salesforce sign-in is no longer valid (sign in again: sfwizard login)")
    if isinstance(exc, ApiLimitExceeded):
        return fail("salesforce.limit_exceeded", "Salesforce's daily API limit is used up: every Salesforce call is "
                    "refused until it resets", LIMIT.cause, LIMIT.fix, errorCode=exc.code, message=exc.detail), \
            ("skip.limit_exceeded", "the Salesforce API limit is used up")
    if isinstance(exc, PasswordExpired):
        return fail("signin.password_expired", "the signed-in Salesforce user's password expired: Salesforce refuses "
                    "every call of theirs", f"the password's policy expired it ({exc.code})", exc.hint,
                    errorCode=exc.code), ("skip.password_expired", "the signed-in user's password expired")
    # Asking again, check after check, only waits out the same timeouts: the rest is not run.
    return fail("net.unreachable", exc.message,  # type: ignore[attr-defined]
                "the org did not answer: nothing was checked there",
                getattr(exc, "hint", "") or "check the network, then run the checks again",
                service="salesforce"), ("skip.unreachable", "Salesforce could not be reached")


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
