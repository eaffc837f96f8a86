"""The run's plan: every read the chosen checks declare (``@check(..., reads=…)``), fetched in as few round trips
as their data allows.

A check asks its facts one after the other; run alone, that is one round trip per read. The plan fetches the
same reads ahead, wave by wave, while the checks wait on the memo for what they need:

1. every declared read's ``first`` wave — what needs nothing first: the platform's pages, integration and
   attributes, the status page, the Salesforce reads known from the snapshot and the sign-in — Salesforce's in
   composite/batch requests of up to 25 reads, beside the platform, status-page and Tooling requests no batch
   carries, all at once;
2. every declared read's ``then`` wave — what needs the first wave's answers (the platform's sampled Ids, the
   disconnect time, the integration user's row) — again at once.

Only the reads of checks that will run are planned: a check whose needs are not met (no platform key, the
wrong org…) is skipped and reads nothing; a service the run has no client for, or Salesforce once it stopped
answering (a used-up limit, a lost sign-in), gets nothing. A read is memoized by its text and built by the same
function the check calls, so a planned read is the read the check asks for; one planned wrongly is an unused
sub-request, one not declared is made by the check itself (a round trip more — tests/checks/test_round_trips.py
runs every check alone to catch that). The plan never raises: an error lands in the memo as that read's answer.
benchmarks/ROUND_TRIPS.md counts the waves and calls.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sfwizard.checks.reads import WAVES, Reads
from sfwizard.checks.shared_reads import ORG
from sfwizard.integrations.salesforce import SalesforceAPI

if TYPE_CHECKING:
    from sfwizard.checks.base import CheckSpec
    from sfwizard.checks.context import CheckContext

log = logging.getLogger("sfwizard")


def plan_and_fetch(ctx: CheckContext, specs: Iterable[CheckSpec], ready: threading.Event) -> int:
    """Fetch the chosen checks' declared reads wave by wave; ``ready`` is set once the first wave is in.
    Returns the number of waves that sent anything. Never raises."""
    specs = list(specs)
    waves = 0
    try:
        for n in range(WAVES):
            items = wave_items(ctx, specs, n)
            if items:
                waves += 1
                ctx.prefetch(items)
            ready.set()
    except Exception:  # noqa: BLE001 - a plan that fails only leaves the checks to ask for themselves
        log.warning("the read plan failed; the checks read on their own", exc_info=True)
    finally:
        ready.set()
    return waves


def declared(ctx: CheckContext, specs: Iterable[CheckSpec]) -> list[Reads]:
    """The reads of the checks that will run, each once, in the order declared (the org first: whether the
    checks that need the data org run depends on it)."""
    out: dict[Reads, None] = {}
    for spec in specs:
        if "salesforce" in spec.needs:
            out.setdefault(ORG)
        if _may_run(ctx, spec):
            for r in spec.reads:
                out.setdefault(r)
    return list(out)


def wave_items(ctx: CheckContext, specs: Iterable[CheckSpec], n: int) -> list[Any]:
    """Wave ``n``'s reads for these checks: the declared reads' wave functions, for the services that answer
    (a limits read after the rest of its wave, so it counts them)."""
    items: list[Any] = []
    last: list[Any] = []
    for reads in declared(ctx, specs):
        build = reads.wave(n)
        if build is None or not _answers(ctx, reads.service):
            continue
        (last if reads.last else items).extend(_safely(reads, build, ctx))
    return items + last


def _safely(reads: Reads, build: Any, ctx: CheckContext) -> list[Any]:
    try:
        return list(build(ctx))
    except Exception:  # noqa: BLE001 - a fact the plan needed failed: its checks will say so
        log.debug("read plan: %s gave up", reads.name, exc_info=True)
        return []


def _answers(ctx: CheckContext, service: str) -> bool:
    """Whether the run has a real client for the service (tests give stand-ins, which are not planned for)."""
    if service == "salesforce":
        return isinstance(ctx.sf, SalesforceAPI) and ctx.stopped is None
    if service == "platform":
        from sfwizard.integrations.px import PxAPI

        return isinstance(ctx.px, PxAPI)
    return ctx.status is not None


def _may_run(ctx: CheckContext, spec: CheckSpec) -> bool:
    """Whether the check's needs are met (the data org assumed until the org is known)."""
    for need in spec.needs:
        if need == "data_org":
            if ctx.known("org") and not ctx.has("data_org"):
                return False
        elif not ctx.has(need):
            return False
    return True

