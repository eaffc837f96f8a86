"""Step 9 · Troubleshoot: every check runs again, and only what fails is shown — each symptom named as the
runbook names it, with its cause and its fix. Fix, then r to run again."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from .base import StepScreen
from .widgets import flat


class Step(StepScreen):
    STEP = "troubleshoot"
    SHOWS_CHECKS = True

    def compose_body(self) -> ComposeResult:
        yield Static("", id="verdict", classes="card", markup=False)
        yield Vertical(id="symptoms", classes="fixes")

    def refresh_frame(self) -> None:
        super().refresh_frame()
        self._symptoms()

    def after_results(self, results: list) -> None:  # noqa: ANN001
        self._symptoms()

    def _symptoms(self) -> None:
        rec = self.recovery
        box = self.query_one("#symptoms", Vertical)
        box.remove_children()
        if rec is None:
            return
        ran = [rec.navigator.results[c] for c in rec.step_checks(self.STEP) if c in rec.navigator.results]
        symptoms = [r for r in ran if r.id.startswith("ts.") and r.status.value == "fail"]
        others = [r for r in ran if not r.id.startswith("ts.") and r.status.value == "fail"]
        card = self.query_one("#verdict", Static)
        card.set_class(bool(ran) and not symptoms and not others, "-good")
        card.set_class(bool(symptoms or others), "-bad")
        if not ran:
            card.update("Running every check…")
        elif not symptoms and not others:
            card.update("No known symptom is seen, and no check fails.")
        else:
            card.update(f"{len(symptoms)} symptom(s) seen; {len(others)} check(s) failing. Fix, then press r.")
        for r in symptoms + others:
            box.mount(Static(f"✘ {flat(r.title)}: {flat(r.summary)}\n   likely cause: {flat(r.cause)}\n"
                             f"   resolution: {flat(r.resolution)}", classes="fix", markup=False))
        table = self.query_one("#checks")
        table.display = False  # the symptoms above say it; the full table is in Validate and the report
