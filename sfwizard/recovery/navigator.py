"""The wizard's steps, their order and their rules, as plain Python (no Textual): what Next needs, what Back
means after a skip, where a resumed session stands. Every outcome is saved to the recovery session as it
happens, so a killed wizard resumes where it was.

A step's gate opens when every fact it needs is recorded (signed in, snapshot saved, a sync completed),
every check it shows has run, none of them fails, every check only a person can answer is confirmed by
someone, and its strict checks pass outright (a warning is not enough there). Or a person skips the step
with a reason, which is recorded and appears in the report.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sfwizard.checks.base import CheckResult, Status
from sfwizard.errors import SfwizardError

if TYPE_CHECKING:
    from sfwizard.profiles import Profile
    from sfwizard.recovery.session import RecoverySession


class Actor(str, enum.Enum):
    PLATFORM_ADMIN = "platform_admin"
    SALESFORCE_ADMIN = "salesforce_admin"
    WIZARD = "wizard"

    def label(self, profile: Profile) -> str:
        if self is Actor.PLATFORM_ADMIN:
            return f"{profile.vendor} admin"
        if self is Actor.SALESFORCE_ADMIN:
            return "Salesforce admin"
        return "sfwizard"


@dataclass(frozen=True)
class StepDef:
    id: str
    title: str
    check_steps: tuple[str, ...] = ()  # the checks registered under these steps are shown and gate this one
    extra: tuple[str, ...] = ()  # checks of other steps this one shows again (a sync re-reads the status)
    strict: tuple[str, ...] = ()  # check ids that must pass (a warning keeps the gate closed)
    facts: tuple[str, ...] = ()  # facts that must be recorded first
    profiles: tuple[str, ...] = ("gainsight-px", "skilljar")
    when: str | None = None  # a condition (Conditions) under which the step applies at all
    all_checks: bool = False  # runs every check (troubleshooting reads the others' results)
    # Not listed at all (rather than listed as skipped) while its condition is False: a step whose screen comes later.
    hidden_when_off: bool = False


# The order of the recovery. Check ids come from the check registry (each check names its step).
STEPS: tuple[StepDef, ...] = (
    StepDef("before", "Before you begin", ("before",)),
    StepDef("connect", "Connect Salesforce", ("connect",), facts=("signed_in",)),
    StepDef("impact", "Impact", ("impact",)),
    StepDef("mappings", "Document mappings", ("mappings",), facts=("snapshot_saved",)),
    # Issue 22: what the org shows about the integration before its token comes back, and the hardening. Offered
    # once the wizard has its pane (Recovery.offer_security_step); its checks run with every `check` all the same.
    StepDef("security", "Security review", ("security",), when="security_review", hidden_when_off=True),
    StepDef("reauthorize", "Re-authorize", ("reauthorize",), strict=("token.fresh", "identity.right_org")),
    StepDef("sync", "Synchronize", ("sync",), extra=("token.platform_status",), strict=("token.platform_status",),
            facts=("sync_completed",), profiles=("gainsight-px",)),
    StepDef("sync", "Backfill", ("sync",), strict=("skilljar.backfill_window",), facts=("sync_completed",),
            profiles=("skilljar",)),
    StepDef("validate", "Validate", ("validate",),
            strict=("flow.salesforce_to_platform", "flow.platform_to_salesforce", "skilljar.backfill_arrived")),
    StepDef("knowledge", "Knowledge", ("knowledge",), profiles=("gainsight-px",), when="knowledge"),
    StepDef("troubleshoot", "Troubleshoot", ("troubleshoot",), all_checks=True),
    StepDef("checklist", "Final checklist", facts=("checklist_reviewed",)),
    StepDef("report", "Report", facts=("report_written",)),
)

FACT_WORDS = {
    "signed_in": "sign in to Salesforce (1: the browser, 2: a device code)",
    "snapshot_saved": "save the mapping snapshot",
    "sync_completed": "run the sync (Synchronize, or Backfill) and watch it finish",
    "checklist_reviewed": "review the checklist",
    "report_written": "write the report",
}


class StepState(str, enum.Enum):
    PENDING = "pending"
    CURRENT = "current"
    DONE = "done"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Gate:
    """Whether Next is allowed now, and if not, why (words and a machine code)."""

    open: bool
    reason: str = ""
    code: str = ""  # fact.missing, check.not_run, check.failed, check.warned, confirm.needed
    check_id: str = ""


class GateClosed(SfwizardError):
    def __init__(self, gate: Gate) -> None:
        super().__init__(gate.reason, "finish it, or skip the step with a reason")
        self.gate = gate


Conditions = Callable[[str], bool | None]  # "knowledge" → True/False, or None while not known yet


class Navigator:
    """Owns the step order and the state collected so far; every change is saved to the session."""

    def __init__(self, profile: Profile, session: RecoverySession, *, conditions: Conditions | None = None,
                 check_steps: dict[str, str] | None = None) -> None:
        self.profile = profile
        self.session = session
        self._conditions = conditions or (lambda _name: None)
        if check_steps is None:
            from sfwizard.checks.runner import specs_for

            check_steps = {s.id: s.step for s in specs_for(profile.name)}
        self._check_steps = check_steps  # check id → its step, for this profile
        self.results: dict[str, CheckResult] = {}
        for raw in session.results:
            try:
                result = CheckResult.from_dict(raw)
            except (KeyError, TypeError, ValueError):
                continue  # an older or damaged entry: the step simply runs its checks again
            self.results[result.id] = result
        if self.current_id not in {s.id for s in self.steps}:
            self.session.step = self.steps[0].id

    # -- the steps -------------------------------------------------------------------------------
    @property
    def steps(self) -> list[StepDef]:
        """The steps of this profile, knowledge included while it is not known to be unused."""
        return [s for s in STEPS if self.profile.name in s.profiles
                and not (s.hidden_when_off and self._conditions(s.when or "") is False)]

    def step(self, step_id: str) -> StepDef:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def applies(self, step: StepDef) -> bool:
        return step.when is None or self._conditions(step.when) is not False

    @property
    def current_id(self) -> str:
        return self.session.step

    @property
    def current(self) -> StepDef:
        return self.step(self.current_id)

    def index(self, step_id: str) -> int:
        return [s.id for s in self.steps].index(step_id)

    def checks_of(self, step: StepDef | str) -> list[str]:
        """The check ids a step runs and shows, in registry order."""
        s = self.step(step) if isinstance(step, str) else step
        if s.all_checks:
            return list(self._check_steps)
        return [cid for cid, st in self._check_steps.items() if st in s.check_steps or cid in s.extra]

    def state(self, step: StepDef | str) -> StepState:
        s = self.step(step) if isinstance(step, str) else step
        if s.id == self.current_id:
            return StepState.CURRENT
        if self.skip_of(s.id) is not None or not self.applies(s):
            return StepState.SKIPPED
        if s.id in self.session.completed:
            return StepState.DONE
        return StepState.PENDING

    def skip_of(self, step_id: str) -> dict | None:
        return next((k for k in reversed(self.session.skips) if k.get("step") == step_id), None)

    # -- what the step needs -------------------------------------------------------------------------
    def confirmed(self, item: str) -> dict | None:
        return next((c for c in reversed(self.session.confirmations) if c.get("item") == item), None)

    def has_fact(self, name: str) -> bool:
        return name in self.session.facts

    def gate(self, step: StepDef | str | None = None) -> Gate:
        s = self.current if step is None else (self.step(step) if isinstance(step, str) else step)
        for fact in s.facts:
            if not self.has_fact(fact):
                return Gate(False, f"first {FACT_WORDS.get(fact, fact)}", "fact.missing")
        if s.all_checks:  # troubleshooting: what fails among the symptoms, nothing else
            ids = [c for c in self.checks_of(s) if self._check_steps.get(c) == "troubleshoot"]
        else:
            ids = self.checks_of(s)
        for cid in ids:
            r = self.results.get(cid)
            if r is None:
                return Gate(False, "checks have not run yet", "check.not_run", cid)
            if r.status == Status.FAIL:
                return Gate(False, f"{r.title}: {r.summary}", "check.failed", cid)
            if r.status == Status.MANUAL and self.confirmed(cid) is None:
                return Gate(False, f"a person must confirm: {r.summary}", "confirm.needed", cid)
            if r.status == Status.WARN and cid in s.strict:
                return Gate(False, f"{r.title}: {r.summary}", "check.warned", cid)
        return Gate(True)

    # -- outcomes (each saved) --------------------------------------------------------------------------
    def record(self, results: Iterable[CheckResult]) -> None:
        """Keep the latest result of each check, in memory and in the session (one save)."""
        fresh = list(results)
        for r in fresh:
            self.results[r.id] = r
        if fresh:
            self.session.record_run([r.to_dict() for r in fresh])

    def confirm(self, item: str, who: str, role: Actor | str) -> None:
        role_value = role.value if isinstance(role, Actor) else role
        self.session.confirm(self.current_id, item, who, role_value)

    def note_fact(self, name: str, value: object = True) -> None:
        self.session.note_fact(name, value)

    # -- moving -------------------------------------------------------------------------------------------
    def _neighbour(self, step_id: str, direction: int) -> StepDef | None:
        order = self.steps
        i = self.index(step_id) + direction
        while 0 <= i < len(order):
            if self.applies(order[i]):
                return order[i]
            i += direction
        return None

    @property
    def next_step(self) -> StepDef | None:
        return self._neighbour(self.current_id, +1)

    @property
    def previous_step(self) -> StepDef | None:
        return self._neighbour(self.current_id, -1)

    def next(self) -> StepDef:
        """Complete the current step and move on; refused (GateClosed) while its gate is shut."""
        gate = self.gate()
        if not gate.open:
            raise GateClosed(gate)
        return self._advance(done=True)

    def skip(self, reason: str, who: str) -> StepDef:
        """Pass over the current step; the reason and the person are recorded for the report."""
        reason = " ".join(reason.split())
        if not reason:
            raise SfwizardError("a skip needs a reason", "say why the step is passed over")
        self.session.skips.append({"step": self.current_id, "reason": reason, "who": " ".join(who.split()) or "?",
                                   "at": _now()})
        return self._advance(done=False)

    def _advance(self, *, done: bool) -> StepDef:
        here = self.current_id
        if done and here not in self.session.completed:
            self.session.completed.append(here)
        nxt = self._neighbour(here, +1)
        if nxt is None:  # the last step: the recovery is finished
            self.session.finished_at = self.session.finished_at or _now()
            self.session.save()
            return self.current
        self.session.step = nxt.id
        self.session.save()
        return nxt

    def back(self) -> StepDef:
        """One applicable step back; what was done there stays done (and its outcome stays recorded)."""
        prev = self.previous_step
        if prev is None:
            return self.current
        self.session.step = prev.id
        self.session.save()
        return prev

    def can_go_to(self, step_id: str) -> bool:
        """Any step already reached (done, skipped, or the first one not done yet); never past a closed gate."""
        target = self.step(step_id)
        if not self.applies(target):
            return False
        for s in self.steps:
            if s.id == step_id:
                return True
            if self.applies(s) and s.id not in self.session.completed and self.skip_of(s.id) is None:
                return False
        return False

    def go_to(self, step_id: str) -> StepDef:
        if not self.can_go_to(step_id):
            raise SfwizardError(f"the {self.step(step_id).title} step is not reached yet",
                                "finish the steps before it (or skip them with a reason)")
        self.session.step = step_id
        self.session.save()
        return self.current

    @property
    def finished(self) -> bool:
        return self.session.finished_at is not None


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")
