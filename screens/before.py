"""Step 1 · Before you begin: the vendor's status page, who is needed and what each must be able to do."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from .base import StepScreen
from .widgets import actor_label, flat


class Step(StepScreen):
    STEP = "before"

    def compose_body(self) -> ComposeResult:
        yield Static("", id="status-verdict", classes="card", markup=False)
        yield Static("Who is needed", classes="section")
        yield Static("", id="people", markup=False)
        yield Static("", id="duration", classes="note", markup=False)
        yield Static("If the Salesforce admin is not here", classes="section")
        yield Static("", id="absent", classes="note", markup=False)
        yield Static("Press c to confirm that both admins are here (your names go into the report).",
                     classes="note")

    def refresh_frame(self) -> None:
        super().refresh_frame()
        rec = self.recovery
        if rec is None:
            return
        p = rec.profile
        lines = []
        for person in p.people:
            role = "platform_admin" if "Salesforce" not in person["role"] else "salesforce_admin"
            who_ = flat(person.get("who", ""))
            label = actor_label(role, p.vendor)
            lines.append(f"• {label}" + (f" ({who_})" if who_ and who_ != label else "") + " — can:")
            lines += [f"    – {flat(c)}" for c in person.get("can", [])]
        who = rec.navigator.confirmed("before.people")
        if who is not None:
            lines.append(f"Confirmed by {flat(who.get('who'))} at {who.get('at')}.")
        self.show_text("people", "\n".join(lines))
        self.show_text("duration", f"Takes {p.duration}." if p.duration else "")
        self.show_text("absent", flat(p.absent_admin))
        self._verdict()

    def _verdict(self) -> None:
        rec = self.recovery
        r = rec.navigator.results.get("before.status_page") if rec else None
        card = self.query_one("#status-verdict", Static)
        card.set_class(r is not None and r.status.value == "pass", "-good")
        card.set_class(r is not None and r.status.value == "fail", "-bad")
        if r is None:
            card.update("Reading the vendor's status page…")
            return
        ev = r.evidence
        lines = [f"{rec.profile.vendor} status page: {flat(ev.get('description') or r.summary)}"]
        lines += [f"  affected: {flat(c)}" for c in ev.get("affected_components", [])[:4]]
        lines += [f"  incident: {flat(i)}" for i in ev.get("unresolved_incidents", [])[:3]]
        if r.status.value in ("fail", "warn") and r.resolution:
            lines.append(f"  → {flat(r.resolution)}")
        card.update("\n".join(lines))

    def after_results(self, results: list) -> None:  # noqa: ANN001 - the base's signature
        self._verdict()

    def after_confirm(self, item: str) -> None:
        self.refresh_frame()
