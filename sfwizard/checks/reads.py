"""What a check reads, declared beside it: ``@check(..., reads=(APP_TOKENS, SAMPLES))``.

A ``Reads`` names one group of reads and says how to build them for a run, wave by wave: ``first`` what needs no
earlier answer (known from the sign-in, the snapshot, the profile), ``then`` what needs the first wave's answers
(the platform's Ids, the integration user's row, the disconnect time). The run's read plan
(``sfwizard.checks.prefetch``) collects the declarations of the checks that will run and fetches every wave at
once — Salesforce reads folded into composite/batch requests — while the checks wait on the memo for what they
ask. A wave builds its reads with the same functions the check calls (a read is memoized by its text), so a
planned read is the read the check makes.

A check that reads something it did not declare still answers right, one round trip later:
``tests/checks/test_round_trips.py`` runs every registered check alone and holds it to its declaration.

Writing one for a new check::

    AUDIT = Reads("audit_trail", "salesforce",
                  first=lambda ctx: [lambda: ctx.tooling(AUDIT_SOQL)])   # a Tooling query: its own request
    TOKENS = Reads("app_tokens", "salesforce",
                   first=lambda ctx: [Read("query", tokens_soql(ctx.profile.connected_app))])  # batched

An item is a ``Read`` (a query, COUNT(), SOSL, describe or limits read a composite/batch carries) or a callable
that computes a memoized fact (a platform call, a Tooling query, a REST resource no batch carries). A wave
function may read facts of earlier waves (they are in by then) and should build nothing it will not need; an
error it raises only leaves its reads to the check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, TypeAlias

    from sfwizard.checks.context import CheckContext
    from sfwizard.integrations.salesforce import Read

    Item: TypeAlias = Read | Callable[[], Any]
    Wave: TypeAlias = Callable[[CheckContext], Iterable[Item]]

SERVICES = ("salesforce", "platform", "status")
WAVES = 2  # what the reads' dependencies allow: the platform's and the org's answers, then what needs them


@dataclass(frozen=True, eq=False)
class Reads:
    """One named group of reads (compared by identity: declare each once, at module level, and share it)."""

    name: str
    service: str  # which client the reads go through: nothing is planned for a service the run has no client for
    first: Wave | None = None
    then: Wave | None = None
    last: bool = False  # sent after the others of its wave (a limits read then counts them)

    def __post_init__(self) -> None:
        if self.service not in SERVICES:
            raise ValueError(f"reads {self.name}: unknown service {self.service!r} (one of {', '.join(SERVICES)})")

    def wave(self, n: int) -> Wave | None:
        return (self.first, self.then)[n] if n < WAVES else None
