"""The runbook's final checklist, item by item, each backed by the checks that prove it.

An item passes when every check proving it passes (a warning proves it only where the item says that warning
is a caveat, not a contradiction — ``warn_ok``: "nothing has arrived" never proves "records arrived");
fails when one fails; waits for a person where no API shows it; and is not applicable when the tenant
does not use what it is about (Knowledge, custom objects). The wizard's checklist screen and the
Markdown report both read this one evaluation.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sfwizard.checks.base import CheckResult, Status
from sfwizard.profiles import ChecklistItem, Profile


class Mark(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    CONFIRMED = "confirmed"  # a person confirmed what no API shows
    WAITING = "waiting"  # not proven yet: checks not run, or a person still has to confirm
    NOT_APPLICABLE = "n/a"


@dataclass(frozen=True)
class ItemOutcome:
    item: ChecklistItem
    mark: Mark
    why: str  # one line: the proving checks' verdict, who confirmed and when, or what is missing
    checks: tuple[str, ...] = ()
    confirmed_by: dict[str, Any] | None = None
    caveats: tuple[str, ...] = field(default=())
    advisory: bool = False  # a recommendation beyond the runbook, still to apply: shown, never holding the recovery

    @property
    def key(self) -> str:
        return confirm_key(self.item)

    @property
    def done(self) -> bool:
        return self.mark in (Mark.PASS, Mark.CONFIRMED, Mark.NOT_APPLICABLE) or self.advisory

    def to_dict(self) -> dict[str, Any]:
        return {"group": self.item.group, "item": self.item.item, "mark": self.mark.value, "why": self.why,
                "checks": list(self.checks), "confirmed_by": self.confirmed_by, "caveats": list(self.caveats),
                "beyond_runbook": self.item.beyond_runbook, "advisory": self.advisory}


def confirm_key(item: ChecklistItem) -> str:
    """The confirmation's key in the recovery session (a step may ask the same question under this key)."""
    return item.key or f"checklist:{item.item}"


def evaluate(profile: Profile, results: Mapping[str, CheckResult], *,
             confirmations: Sequence[Mapping[str, Any]] = (), facts: Mapping[str, Any] | None = None,
             condition: Callable[[str], bool | None] = lambda _c: None) -> list[ItemOutcome]:
    facts = facts or {}
    confirmed = {c.get("item"): c for c in confirmations if isinstance(c, Mapping)}
    out = []
    for item in profile.checklist:
        out.append(_one(item, results, confirmed, facts, condition))
    return out


def _one(item: ChecklistItem, results: Mapping[str, CheckResult], confirmed: Mapping[str, Mapping[str, Any]],
         facts: Mapping[str, Any], condition: Callable[[str], bool | None]) -> ItemOutcome:
    if item.when is not None and condition(item.when) is False:
        return ItemOutcome(item, Mark.NOT_APPLICABLE, f"not used here ({item.when.replace('_', ' ')})")
    seen = [results[c] for c in item.proven_by if c in results]
    failing = [r for r in seen if r.status == Status.FAIL]
    # a person's word on the item, or on a check proving it that only a person could answer
    person = confirmed.get(confirm_key(item)) or next((confirmed[c] for c in item.proven_by if c in confirmed), None)
    who = dict(person) if person else None
    caveats = tuple(f"{r.title}: {r.summary}" for r in seen if r.status == Status.WARN)
    if failing:
        return ItemOutcome(item, Mark.FAIL, f"{failing[0].title}: {failing[0].summary}", item.proven_by, who,
                           caveats)
    missing = [c for c in item.proven_by if c not in results]
    skipped = [r for r in seen if r.status == Status.SKIPPED]
    if item.fact and item.fact not in facts:
        return ItemOutcome(item, Mark.WAITING, f"not seen yet: {item.fact.replace('_', ' ')}", item.proven_by,
                           who, caveats)
    if missing:
        return ItemOutcome(item, Mark.WAITING, "not checked yet", item.proven_by, who, caveats)
    warned = [r for r in seen if r.status == Status.WARN]
    if item.beyond_runbook and warned:  # a recommendation still to apply (the security review's hardening)
        return ItemOutcome(item, Mark.WAITING, f"recommended, not applied yet: {warned[0].summary}", item.proven_by,
                           who, caveats, advisory=True)
    doubt = [r for r in seen if r.status == Status.WARN and r.reason not in item.warn_ok]
    if doubt and not item.confirm:
        return ItemOutcome(item, Mark.WAITING, f"not proven: {doubt[0].title}: {doubt[0].summary}", item.proven_by,
                           who, caveats)
    manual = [r for r in seen if r.status == Status.MANUAL]
    if item.confirm or manual or (skipped and len(skipped) == len(seen) and seen):
        # No API shows it (or the checks could not look): a person's word is what proves it.
        if who is not None:
            return ItemOutcome(item, Mark.CONFIRMED, f"confirmed by {who.get('who', '?')} "
                               f"({who.get('role', '')}) at {who.get('at', '?')}", item.proven_by, who, caveats)
        return ItemOutcome(item, Mark.WAITING, "a person must confirm this", item.proven_by, None, caveats)
    if not item.proven_by:
        return ItemOutcome(item, Mark.WAITING, "a person must confirm this", (), None, caveats)
    return ItemOutcome(item, Mark.PASS, "; ".join(r.summary for r in seen if r.status == Status.PASS) or "proven",
                       item.proven_by, who, caveats)
