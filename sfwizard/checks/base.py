"""The registry: the ``@check`` decorator, what a check declares (its step, what it needs, what it reads), and
the wizard's steps. The result types live in ``sfwizard.checks.results`` and are re-exported here.

The runner (``sfwizard.checks.runner``) imports the check modules and runs them; this module imports none of
them, and ``results`` and the context's modules never import this one — so the checks package has no import
circle, at run time or for type hints (tests/checks/test_checks_architecture.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sfwizard.checks.reads import Reads
from sfwizard.checks.results import (  # noqa: F401 - re-exported: the names every check and consumer imports
    CheckResult,
    Outcome,
    Status,
    fail,
    manual,
    ok,
    skipped,
    warn,
)

if TYPE_CHECKING:
    from sfwizard.checks.context import CheckContext


# Wizard steps, in order (the Textual wizard and the report group checks by these).
STEPS = (
    ("before", "Before you begin"),
    ("connect", "Connect Salesforce"),
    ("impact", "Impact"),
    ("mappings", "Document mappings"),
    ("security", "Security review"),
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
    reads: tuple[Reads, ...] = ()  # what it reads: the run's plan fetches these ahead (sfwizard.checks.reads)


REGISTRY: dict[str, CheckSpec] = {}


def check(id: str, title: str, step: str, *, profiles: Iterable[str] = ("gainsight-px", "skilljar"),
          needs: Iterable[str] = ("salesforce",), reads: Iterable[Reads] = (),
          reads_results: bool = False) -> Callable[[CheckFunc], CheckFunc]:
    """Register a check function ``f(ctx) -> Outcome``.

    ``needs``: what must be there for it to run (from NEEDS; otherwise it is skipped with why). ``reads``: the
    ``Reads`` it makes (sfwizard.checks.reads), fetched ahead by the run's plan — a read left out still
    answers, one round trip later. ``reads_results``: it reads ``ctx.results`` (the troubleshooting symptoms),
    so the runner runs it once every other check has finished.
    """
    needs = tuple(needs)
    unknown = set(needs) - set(NEEDS)
    if unknown:
        raise ValueError(f"check {id}: unknown needs {sorted(unknown)}")
    reads = tuple(reads)
    wrong = [r for r in reads if not isinstance(r, Reads)]
    if wrong:
        raise ValueError(f"check {id}: reads must be Reads, not {wrong!r}")

    def deco(func: CheckFunc) -> CheckFunc:
        if id in REGISTRY:
            raise ValueError(f"duplicate check id {id}")
        REGISTRY[id] = CheckSpec(id, title, step, func, tuple(profiles), needs, reads_results, reads)
        return func

    return deco
