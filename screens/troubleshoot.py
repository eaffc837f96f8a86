"""Step 9 · Troubleshoot: every check runs again, and only what fails is shown — each symptom named as the
runbook names it, with its cause and its fix. Fix, then r to run again."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from .pane import StepPane
from .widgets import Indented, flat, say


class Step(StepPane):
    STEP = "troubleshoot"

    def compose_body(self) -> ComposeResult:
        yield Static("", id="verdict", classes="card", markup=False)
        yield Indented(id="symptoms", classes="fixes")

    def render_state(self) -> None:
        rec = self.rec
        ran = [rec.navigator.results[c] for c in rec.step_checks(self.STEP) if c in rec.navigator.results]
        failing = [r for r in ran if rec.navigator.shown_status(r.id) == "fail"]
        symptoms = [r for r in failing if r.id.startswith("ts.")]
        others = [r for r in failing if not r.id.startswith("ts.")]
        card = self.query_one("#verdict", Static)
        done = bool(ran) and not self.running
        card.set_class(done and not failing, "-good")
        card.set_class(bool(failing), "-bad")
        if not done:
            say(card, "Running every check…")
        elif not failing:
            say(card, "No known symptom is seen, and no check fails.")
        else:
            say(card, f"{len(symptoms)} symptom(s) seen; {len(others)} check(s) failing. Fix, then press r.")
        lines: list[tuple[str, str, str]] = []
        for r in symptoms + others:
            finding, way = self.words(r)
            lines += [("✘ ", "  ", f"{flat(r.title)}: {flat(finding)}"),
                      ("   likely cause: ", "     ", flat(r.cause)),
                      ("   resolution: ", "     ", flat(way)), ("", "", "")]
        self.query_one("#symptoms", Indented).show(lines)
        super().render_state()
        self.query_one("#checks").display = False  # the symptoms above say it; the full table is in Validate
