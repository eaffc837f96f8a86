"""Step 7 · Validate both directions: each check with its evidence; Enter drills into a row, r re-runs all,
o re-runs the one under the cursor."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from .base import StepScreen
from .widgets import CheckTable, flat


class Step(StepScreen):
    STEP = "validate"
    BINDINGS = [Binding("o", "rerun_one", "Re-run this one")]

    def compose_body(self) -> ComposeResult:
        yield Static("", id="directions", classes="card", markup=False)
        yield Static("Enter shows a check's evidence · r re-runs every check · o re-runs the selected one",
                     classes="note")

    def refresh_frame(self) -> None:
        super().refresh_frame()
        rec = self.recovery
        if rec is None:
            return
        lines = []
        labels = {"flow.salesforce_to_platform": "Salesforce → platform",
                  "flow.platform_to_salesforce": "platform → Salesforce (PX_ fields only)",
                  "skilljar.backfill_arrived": "Skilljar → Salesforce",
                  "mapping.live_vs_snapshot": "the live org against the snapshot"}
        for cid, label in labels.items():
            r = rec.navigator.results.get(cid)
            if cid in rec.step_checks(self.STEP):
                verdict = "not checked yet" if r is None else f"{r.status.value}: {flat(r.summary)}"
                lines.append(f"{label}: {verdict}")
        self.show_text("directions", "\n".join(lines) or "The checks below validate the recovery.")

    def action_rerun_one(self) -> None:
        cid = self.query_one(CheckTable).selected_id()
        if cid:
            self.run_checks([cid])

    def after_results(self, results: list) -> None:  # noqa: ANN001
        self.refresh_frame()
