"""A demo recovery walked headless through the Recovery API, as the wizard's keys drive it: sign in, the
snapshot, each step's checks, the demo's vendor click (``v``) whenever a gate is shut by what the results call
for, a watched sync, a person's confirmation (``c``) where only a person can tell, Next — to the report.

It skips a step only where the runbook itself sends the person to Support (Skilljar past its window); anything
else that stays shut fails the walk, naming the step, the gate and what was clicked.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sfwizard.recovery.checklist import Mark

MAX_CLICKS_PER_STEP = 8
SUPPORT_REASONS = ("skilljar.backfill_window_passed",)


@dataclass
class Walk:
    rec: Any
    env: Any
    clicks: list[tuple[str, str]] = field(default_factory=list)  # (step, what the click did)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (step, why)
    confirmed: list[str] = field(default_factory=list)

    @property
    def checklist(self) -> list[Any]:
        return self.rec.checklist()

    def not_done(self) -> list[Any]:
        return [i for i in self.checklist if i.mark not in (Mark.PASS, Mark.CONFIRMED, Mark.NOT_APPLICABLE)]


def start(scenario: str) -> Walk:
    from sfwizard.demo import start_demo
    from sfwizard.recovery.session import RecoverySession
    from sfwizard.recovery.wizard import Recovery

    env = start_demo(scenario)
    session = RecoverySession.new(env.profile, demo_scenario=scenario)
    rec = Recovery(env.profile, env.setup, session, demo=env.info, vendor=env.vendor)
    return Walk(rec, env)


def sign_in(walk: Walk) -> None:
    vendor = walk.env.vendor
    walk.rec.sign_in_browser(lambda url: threading.Thread(target=vendor.approve, args=(url,), daemon=True).start(),
                             timeout=60)


def _click(walk: Walk, step: str) -> bool:
    rec = walk.rec
    if not rec.pending_click(step):
        return False
    walk.clicks.append((step, rec.perform_click(step)))
    if walk.clicks[-1][1].startswith(("Synchronize", "Backfill")):  # then the wizard watches it land
        rec.watch_sync(lambda _st: None, interval=0.1, max_rounds=600)
    return True


def _confirm_manual(walk: Walk, step: str) -> bool:
    """A person confirms what only a person can see (the gate asks for it)."""
    nav = walk.rec.navigator
    gate = nav.gate(step)
    if gate.code != "confirm.needed":
        return False
    nav.confirm(gate.check_id, "Pat Demo", "platform_admin")
    walk.confirmed.append(gate.check_id)
    return True


def walk_to_the_end(walk: Walk) -> Walk:
    """Every step, in order, until the report is written."""
    rec, nav = walk.rec, walk.rec.navigator
    sign_in(walk)
    for _ in range(40):
        step = nav.current_id
        if step == "mappings" and not nav.has_fact("snapshot_saved"):
            _click(walk, "mappings")  # the admin reads the mappings off the platform's screens
            rec.save_snapshot(rec.snapshot_draft())
        if step == "checklist":
            _checklist(walk)
        if step == "report":
            rec.write_report(rec.session.dir / "report")
            nav.next()
            return walk
        clicks = 0
        while True:
            if rec.step_checks(step):
                rec.run_step(step)
            gate = nav.gate(step)
            if gate.open:
                break
            if not rec.pending_click(step) and _confirm_manual(walk, step):
                continue
            support = next((r for r in nav.results.values() if r.reason in SUPPORT_REASONS), None)
            if support is not None:
                nav.skip(f"the runbook sends this to Support: {support.summary}", "Pat Demo")
                walk.skipped.append((step, support.reason))
                break
            clicks += 1
            if clicks > MAX_CLICKS_PER_STEP or not _click(walk, step):
                raise AssertionError(f"step {step} stays shut: {gate.reason} ({gate.code} {gate.check_id}); "
                                     f"clicks so far: {walk.clicks}")
        if nav.current_id == step:
            nav.next()
    raise AssertionError("the walk did not reach the report")


def _checklist(walk: Walk) -> None:
    """What the checklist asks a person to confirm, confirmed; then reviewed."""
    from sfwizard.recovery.checklist import confirm_key

    nav = walk.rec.navigator
    for item in walk.rec.checklist():
        if item.mark == Mark.WAITING and item.why == "a person must confirm this":
            nav.confirm(confirm_key(item.item), "Pat Demo", "platform_admin")
            walk.confirmed.append(confirm_key(item.item))
    nav.note_fact("checklist_reviewed")
