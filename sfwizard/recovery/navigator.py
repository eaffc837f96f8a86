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
    # The person's action this step waits for (a session fact), and the reason codes that only say it has not
    # happened yet: before the action such a finding is "pending" — what the wizard waits for — not red. A reason
    # that shows an attempt (a refused login, a token for another user) is red at once.
    action: str = ""
    awaits: tuple[str, ...] = ()
    # Not listed at all (rather than listed as skipped) while its condition is False: a step whose screen comes later.
    hidden_when_off: bool = False


# The order of the recovery. Check ids come from the check registry (each check names its step).
STEPS: tuple[StepDef, ...] = (
    StepDef("before", "Before you begin", ("before",)),
    StepDef("connect", "Connect Salesforce", ("connect",), facts=("signed_in",)),
    StepDef("impact", "Impact", ("impact",)),
    StepDef("mappings", "Document mappings", ("mappings",), facts=("snapshot_saved",)),
    # Issue 22: what the org shows about the integration before its token comes back, and the hardening.
    StepDef("security", "Security review", ("security",), when="security_review", hidden_when_off=True),
    StepDef("reauthorize", "Re-authorize", ("reauthorize",), strict=("token.fresh", "identity.right_org"),
            action="reauthorize_started", awaits=("token.not_granted", "token.platform_down")),
    StepDef("sync", "Synchronize", ("sync",), extra=("token.platform_status",), strict=("token.platform_status",),
            facts=("sync_completed",), profiles=("gainsight-px",)),
    StepDef("sync", "Backfill", ("sync",), strict=("skilljar.backfill_window",), facts=("sync_completed",),
            profiles=("skilljar",)),
    StepDef("validate", "Validate", ("validate",),
            strict=("flow.salesforce_to_platform", "flow.platform_to_salesforce", "skilljar.backfill_arrived")),
    StepDef("knowledge", "Knowledge", ("knowledge",), profiles=("gainsight-px",), when="knowledge"),
    StepDef("troubleshoot", "Troubleshoot", ("troubleshoot",), all_checks=True),
    StepDef("checklist", "Final checklist"),  # its gate: every item proven or confirmed (Recovery's extra gate)
    StepDef("report", "Report", facts=("report_written",)),
)

FACT_WORDS = {
    "signed_in": "sign in to Salesforce (1: the browser, 2: a device code)",
    "snapshot_saved": "save the mapping snapshot",
    "sync_completed": "run the sync (Synchronize, or Backfill) and watch it finish",
    "checklist_reviewed": "review the checklist",
    "report_written": "write the report",
}
ACTION_WORDS = {
    "reauthorize_started": "the {vendor} admin to re-authorize and the integration user to Allow in Salesforce",
}

# What a check's result was judged from. A result stands only while these are what they were when it ran: a new
# sign-in, a new snapshot, a re-authorization, another disconnect time or other settings make it stale, and the
# step that shows it runs it again — no step ever shows or gates on a finding about another org or snapshot.
BASIS_KEYS = ("org", "user", "snapshot", "reauthorized_at", "disconnected_at", "article", "platform", "security")
Basis = dict[str, str]


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
    code: str = ""  # fact.missing, check.not_run, check.failed, check.warned, confirm.needed, action.pending
    check_id: str = ""


class GateClosed(SfwizardError):
    def __init__(self, gate: Gate) -> None:
        super().__init__(gate.reason, "finish it, or skip the step with a reason")
        self.gate = gate


Conditions = Callable[[str], bool | None]  # "knowledge" → True/False, or None while not known yet
ExtraGate = Callable[[str], "Gate | None"]  # a step's own rule beside its checks (the checklist's items)


def depends_on(step: str, needs: Iterable[str], reads_results: bool = False) -> frozenset[str]:
    """Which parts of the basis a check's result is judged from (over-approximated: a needless re-run is cheap,
    a stale finding is not)."""
    if reads_results:
        return frozenset(BASIS_KEYS)
    needs = set(needs)
    keys = set()
    if needs & {"salesforce", "data_org"}:
        keys |= {"org", "user"}
    if needs & {"snapshot", "data_org"} or step in ("mappings", "reauthorize", "validate"):
        keys.add("snapshot")
    if step in ("sync", "validate"):  # writes and backfills are judged from the re-authorization
        keys |= {"reauthorized_at", "disconnected_at"}
    if step == "reauthorize":  # a fresh token is judged from the disconnect (the re-authorization's time is set
        keys.add("disconnected_at")  # once the token shows: it must not make that finding stale)
    if step == "knowledge":
        keys.add("article")
    if step == "security":  # the review's window and the vendor's declared egress ranges
        keys |= {"security", "disconnected_at"}
    if needs & {"platform", "status"}:
        keys.add("platform")
    return frozenset(keys)


class Navigator:
    """Owns the step order and the state collected so far; every change is saved to the session."""

    def __init__(self, profile: Profile, session: RecoverySession, *, conditions: Conditions | None = None,
                 check_steps: dict[str, str] | None = None, extra_gate: ExtraGate | None = None) -> None:
        self.profile = profile
        self.session = session
        self._conditions = conditions or (lambda _name: None)
        self._extra_gate = extra_gate or (lambda _step: None)
        self._basis_now: Callable[[], Basis] = self._no_basis
        self._deps: dict[str, frozenset[str]] = {}
        if check_steps is None:
            from sfwizard.checks.runner import specs_for

            specs = specs_for(profile.name)
            check_steps = {s.id: s.step for s in specs}
            self._deps = {s.id: depends_on(s.step, s.needs, s.reads_results) for s in specs}
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

    def awaited_by(self, reason: str) -> StepDef | None:
        """The step whose person's action a finding with ``reason`` waits for, while it has not happened and the
        step is still ahead (once it is done or skipped, the same finding is a finding)."""
        for s in self.steps:
            if reason in s.awaits and s.action and not self.has_fact(s.action) \
                    and s.id not in self.session.completed and self.skip_of(s.id) is None:
                return s
        return None

    def pending(self, cid: str) -> bool:
        """A result that only says the person's action has not happened yet (before Authorize, no token): shown
        as what the wizard waits for, never as a red finding."""
        r = self.results.get(cid)
        return r is not None and r.status in (Status.FAIL, Status.WARN) and self.awaited_by(r.reason) is not None

    def shown_status(self, cid: str) -> str:
        """The status a screen shows: the result's, or "pending" (see ``pending``); "" when not run."""
        r = self.results.get(cid)
        if r is None:
            return ""
        return "pending" if self.pending(cid) else r.status.value

    def gate(self, step: StepDef | str | None = None) -> Gate:
        """Whether Next is open, and if not the first thing to do, in this order: a finding (something tried that
        went wrong — named before anything else, so the lock never says "run the sync" after it ran and failed),
        a missing fact, a question only a person can answer (asked before the action it may precede: Skilljar's
        package upgrade comes before Reconnect), the person's action still awaited, checks not run."""
        s = self.current if step is None else (self.step(step) if isinstance(step, str) else step)
        if s.all_checks:  # troubleshooting: what fails among the symptoms, nothing else
            ids = [c for c in self.checks_of(s) if self._check_steps.get(c) == "troubleshoot"]
        else:
            ids = self.checks_of(s)
        results = {c: self.results[c] for c in ids if c in self.results}
        for cid, r in results.items():
            if r.status == Status.FAIL and not self.pending(cid):
                return Gate(False, f"{r.title}: {r.summary}", "check.failed", cid)
        for cid, r in results.items():
            if r.status == Status.WARN and cid in s.strict and not self.pending(cid):
                return Gate(False, f"{r.title}: {r.summary}", "check.warned", cid)
        for fact in s.facts:
            if not self.has_fact(fact):
                return Gate(False, f"first {FACT_WORDS.get(fact, fact)}", "fact.missing")
        for cid, r in results.items():
            if r.status == Status.MANUAL and self.confirmed(cid) is None:
                return Gate(False, f"a person must confirm: {r.summary}", "confirm.needed", cid)
        for cid in ids:
            if self.pending(cid):
                waits = self.awaited_by(self.results[cid].reason)
                action = waits.action if waits is not None else ""
                words = ACTION_WORDS.get(action, action).format(vendor=self.profile.vendor)
                return Gate(False, f"waiting for {words}", "action.pending", cid)
        for cid in ids:
            if cid not in results:
                return Gate(False, "checks have not run yet", "check.not_run", cid)
        extra = self._extra_gate(s.id)
        if extra is not None and not extra.open:
            return extra
        return Gate(True)

    # -- outcomes (each saved) --------------------------------------------------------------------------
    def depends(self, cid: str) -> frozenset[str]:
        return self._deps.get(cid, frozenset(BASIS_KEYS))

    def stands(self, cid: str, basis: Basis, stamped: Basis | None) -> bool:
        """Whether a result judged on ``stamped`` still stands on ``basis``."""
        if stamped is None:
            return True  # a result from before bases were kept: it stands until something changes
        return all(stamped.get(k, "") == basis.get(k, "") for k in self.depends(cid))

    def record(self, results: Iterable[CheckResult], basis: Basis | None = None) -> list[CheckResult]:
        """Keep the latest result of each check, in memory and in the session (one save). With ``basis`` (what
        the run was judged on), a result whose basis has changed meanwhile is dropped: it would be about another
        sign-in or snapshot. Returns what was kept."""
        fresh = list(results)
        if basis is not None:
            now = self._basis_now()
            fresh = [r for r in fresh if self.stands(r.id, now, basis)]
            for r in fresh:
                self.session.result_basis[r.id] = {k: basis.get(k, "") for k in sorted(self.depends(r.id))}
        for r in fresh:
            self.results[r.id] = r
        if fresh:
            self.session.record_run([r.to_dict() for r in fresh])
        return fresh

    def invalidate(self) -> set[str]:
        """Drop every result whose basis is no longer what it was judged on (after a new sign-in, snapshot,
        re-authorization…). Returns the ids dropped; their steps run them again when shown."""
        now = self._basis_now()
        stamps = self.session.result_basis
        gone = {cid for cid in self.results if not self.stands(cid, now, stamps.get(cid))}
        if gone:
            for cid in gone:
                self.results.pop(cid, None)
                stamps.pop(cid, None)
            self.session.results = [r for r in self.session.results
                                    if not (isinstance(r, dict) and r.get("id") in gone)]
            self.session.save()
        return gone

    def reopen_steps_of(self, dropped: Iterable[str]) -> None:
        """Steps whose results were dropped are no longer done: Next through them proves them again, and the
        step list never jumps past one."""
        dropped = set(dropped)
        reopened = [s.id for s in self.steps if s.id in self.session.completed
                    and dropped & set(self.checks_of(s)) and self.skip_of(s.id) is None]
        if reopened:
            self.session.completed = [c for c in self.session.completed if c not in reopened]
            self.session.save()

    def use_basis(self, basis: Callable[[], Basis]) -> None:
        """Where the current basis comes from (the recovery: its sign-in, snapshot, times and settings)."""
        self._basis_now = basis

    @staticmethod
    def _no_basis() -> Basis:
        return {}

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
