"""Step 3 · Impact: the flows in use, the one shared token, the schedule in GMT and local time."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from .pane import StepPane
from .widgets import FitTable, Indented, flat, plain, say


class FlowTable(FitTable):
    FLEX = {"flow": 3, "what": 4}


class ScheduleTable(FitTable):
    FLEX = {"what": 1}


class Step(StepPane):
    STEP = "impact"
    BINDINGS = [Binding("t", "disconnect_time", "Disconnect time")]

    def compose_body(self) -> ComposeResult:
        yield Static("", id="deadline", classes="card", markup=False)
        yield Static("What stopped", classes="section")
        yield FlowTable(id="flows", show_cursor=False)
        yield Indented(id="shared", classes="card")
        yield Static("When data flows again", classes="section")
        yield ScheduleTable(id="schedule", show_cursor=False)
        yield Indented(id="next-runs", classes="note")
        yield Indented(id="large", classes="note")

    def on_mount(self) -> None:
        flows = self.query_one("#flows", DataTable)
        flows.add_column("flow", key="flow", width=20)
        flows.add_column("direction", key="direction", width=16)
        flows.add_column("what it carries", key="what", width=20)
        sched = self.query_one("#schedule", DataTable)
        for key, label, width in (("gmt", "GMT", 5), ("local", "your time", 10), ("direction", "direction", 16),
                                  ("what", "what happens", 20)):
            sched.add_column(label, key=key, width=width)
        self._drawn = False

    def render_state(self) -> None:
        rec = self.rec
        p = rec.profile
        if not self._drawn:  # the profile's rows never change: drawn once
            self._drawn = True
            flows = self.query_one("#flows", DataTable)
            for f in p.flows:
                flows.add_row(plain(f.get("name", "")), plain(f.get("direction", "")), plain(f.get("what", "")))
            sched = self.query_one("#schedule", DataTable)
            from sfwizard.sftime import local_clock

            for s in p.schedule_gmt:
                sched.add_row(plain(s["time"]), plain(local_clock(s["time"], rec.clock())), plain(s["direction"]),
                              plain(s["activity"]))
            sched.display = bool(p.schedule_gmt)
            self.query_one("#shared", Indented).show([("", "", flat(p.shared_token))])
            self.query_one("#large", Indented).show([("", "", flat(p.large_tenant))])
        runs = rec.navigator.results.get("flow.schedule")
        upcoming = ((runs.evidence.get("next_runs") if runs else None) or []) if p.schedule_gmt else []
        self.query_one("#next-runs", Indented).show(
            [("Next: ", "      ", "; ".join(f"{flat(r['activity'])} {r['local']} ({r['gmt']})"
                                            for r in upcoming[:3]))] if upcoming else
            [("", "", "" if p.schedule_gmt else "No fixed schedule: the Backfill pushes what was missed.")])
        self._deadline()
        super().render_state()

    def _deadline(self) -> None:
        """Skilljar's 21-day Backfill window, from the moment the disconnect is known (the one cliff of its
        runbook): the deadline in your time and UTC, what is left, amber under 3 days, red under 1."""
        card = self.query_one("#deadline", Static)
        rec = self.rec
        card.display = rec.profile.backfill is not None
        if not card.display:
            return
        w = rec.backfill_window()
        for cls in ("-good", "-warn", "-bad"):
            card.remove_class(cls)
        if w is None:
            say(card, f"Skilljar's self-service Backfill works for {rec.profile.backfill.get('window_days', 21)} "
                        "days from the disconnect. The disconnect time is not known yet: the dashboard's alert "
                        "shows it — t types it here.")
            return
        card.add_class({"ok": "-good", "amber": "-warn"}.get(w.level, "-bad"))
        lines = [w.words(), f"Disconnected {w.disconnected_at.astimezone():%Y-%m-%d %H:%M %Z} ({w.source}) — t "
                            "changes it."]
        if w.passed:
            lines.append(f"Past the window only Skilljar Support can backfill: {flat(rec.profile.support)}")
        say(card, "\n".join(lines))

    # -- the disconnect time (the window's start), typed or corrected -----------------------------------------
    def action_disconnect_time(self) -> None:
        from .dialogs import DisconnectDialog

        w = self.rec.backfill_window()
        current = f"{w.disconnected_at.astimezone():%Y-%m-%d %H:%M}" if w is not None else ""
        self.wizard.open_dialog(DisconnectDialog(current), self._disconnect_set)

    def _disconnect_set(self, moment: Any) -> None:
        from sfwizard.errors import SfwizardError

        if moment is None:
            return
        try:
            self.rec.set_disconnected_at(moment, source="typed from the dashboard's alert")
        except SfwizardError as exc:
            self.notify(flat(exc.message), severity="warning", markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "disconnect_time":
            return self.rec.profile.backfill is not None
        return True
