"""Step 1 · Before you begin: the vendor's status page, who is needed and what each must be able to do."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from .pane import StepPane
from .widgets import Indented, actor_label, flat, say


class Step(StepPane):
    STEP = "before"

    def compose_body(self) -> ComposeResult:
        yield Static("", id="status-verdict", classes="card", markup=False)
        yield Static("Who is needed", classes="section")
        yield Indented(id="people")
        yield Static("", id="duration", classes="note", markup=False)
        yield Static("If the Salesforce admin is not here", classes="section")
        yield Indented(id="absent", classes="note")

    def render_state(self) -> None:
        rec = self.rec
        p = rec.profile
        lines: list[tuple[str, str, str] | str] = []
        for person in p.people:
            role = "salesforce_admin" if "salesforce" in person["role"].lower() else "platform_admin"
            label = actor_label(role, p.vendor)
            who = flat(person.get("who", ""))
            if who.lower().startswith(label.lower()):  # "Salesforce admin (or the owner)": say only the rest
                who = who[len(label):].strip(" ()")
            extra = f" ({who})" if who and who.lower() != label.lower() else ""
            lines.append(("• ", "  ", f"{label}{extra} — can:"))
            lines += [("    – ", "      ", flat(c)) for c in person.get("can", [])]
        who = rec.navigator.confirmed("before.people")
        if who is not None:
            lines.append(("", "", f"Both here: confirmed by {flat(who.get('who'))} at {who.get('at')}."))
        else:
            lines.append(("", "", "Press c to confirm both admins are here (your name goes into the report)."))
        self.query_one("#people", Indented).show(lines)
        say(self.query_one("#duration", Static), f"Takes {p.duration}." if p.duration else "")
        self.query_one("#absent", Indented).show([("", "", flat(p.absent_admin))])
        self._verdict()
        super().render_state()

    def _verdict(self) -> None:
        rec = self.rec
        r = rec.navigator.results.get("before.status_page")
        card = self.query_one("#status-verdict", Static)
        card.set_class(r is not None and r.status.value == "pass", "-good")
        card.set_class(r is not None and r.status.value == "fail", "-bad")
        card.set_class(r is not None and r.status.value == "warn", "-warn")
        if r is None:
            where = rec.setup.status_url if rec.ready.is_set() and rec.setup and rec.setup.status_url else \
                rec.profile.status_page
            say(card, f"Reading {rec.profile.vendor}'s status page ({flat(where)})…" if "status_page" not in
                        self.missing() or self.running else f"{rec.profile.vendor}'s status page: not read yet")
            return
        ev = r.evidence
        lines = [f"{rec.profile.vendor} status page: {flat(ev.get('description') or r.summary)}"]
        lines += [f"  affected: {flat(c)}" for c in ev.get("affected_components", [])[:4]]
        lines += [f"  incident: {flat(i)}" for i in ev.get("unresolved_incidents", [])[:3]]
        if r.status.value in ("fail", "warn") and r.resolution:
            lines.append(f"  → {flat(r.resolution)}")
        say(card, "\n".join(lines))
