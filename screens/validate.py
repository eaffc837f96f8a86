"""Step 7 · Validate both directions: each check with its evidence; Enter drills into a row, r re-runs all,
o re-runs the one under the cursor."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding

from .pane import StepPane
from .widgets import CheckTable, Indented, flat

LABELS = {"flow.salesforce_to_platform": "Salesforce → platform",
          "flow.platform_to_salesforce": "platform → Salesforce (PX_ fields only)",
          "skilljar.backfill_arrived": "Skilljar → Salesforce",
          "mapping.live_vs_snapshot": "the live org against the snapshot"}


class Step(StepPane):
    STEP = "validate"
    BINDINGS = [Binding("o", "rerun_one", "Re-run this one")]

    def compose_body(self) -> ComposeResult:
        yield Indented(id="directions", classes="card")

    def render_state(self) -> None:
        rec = self.rec
        lines = []
        for cid, label in LABELS.items():
            if cid in rec.step_checks(self.STEP):
                status = rec.navigator.shown_status(cid)
                r = rec.navigator.results.get(cid)
                verdict = "checking…" if cid in self.running else "not checked yet" if r is None else \
                    f"{status}: {flat(r.summary)}"
                lines.append((f"{label}: ", "    ", verdict))
        self.query_one("#directions", Indented).show(lines or ["The checks below validate the recovery."])
        super().render_state()

    def action_rerun_one(self) -> None:
        cid = self.query_one(CheckTable).selected_id()
        if cid and not self.workers_running():
            self.run_checks([cid])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "rerun_one":
            return not self.workers_running() and self.query_one(CheckTable).selected_id() is not None
        return True
