"""Step 3 · Impact: the flows in use, the one shared token, the schedule in GMT and local time."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from .base import StepScreen
from .widgets import FitTable, flat, plain


class FlowTable(FitTable):
    FLEX = {"flow": 3, "what": 4}


class ScheduleTable(FitTable):
    FLEX = {"what": 1}


class Step(StepScreen):
    STEP = "impact"

    def compose_body(self) -> ComposeResult:
        yield Static("What stopped", classes="section")
        yield FlowTable(id="flows", show_cursor=False)
        yield Static("", id="shared", classes="card", markup=False)
        yield Static("When data flows again", classes="section")
        yield ScheduleTable(id="schedule", show_cursor=False)
        yield Static("", id="next-runs", classes="note", markup=False)
        yield Static("", id="large", classes="note", markup=False)

    def on_mount(self) -> None:
        flows = self.query_one("#flows", DataTable)
        flows.add_column("flow", key="flow", width=20)
        flows.add_column("direction", key="direction", width=16)
        flows.add_column("what it carries", key="what", width=20)
        sched = self.query_one("#schedule", DataTable)
        for key, label, width in (("gmt", "GMT", 5), ("local", "your time", 10), ("direction", "direction", 16),
                                  ("what", "what happens", 20)):
            sched.add_column(label, key=key, width=width)
        super().on_mount()

    def refresh_frame(self) -> None:
        super().refresh_frame()
        rec = self.recovery
        if rec is None:
            return
        p = rec.profile
        flows = self.query_one("#flows", DataTable)
        flows.clear()
        for f in p.flows:
            flows.add_row(plain(f.get("name", "")), plain(f.get("direction", "")), plain(f.get("what", "")))
        self.show_text("shared", flat(p.shared_token))
        sched = self.query_one("#schedule", DataTable)
        sched.clear()
        from sfwizard.sftime import local_clock

        for s in p.schedule_gmt:
            sched.add_row(plain(s["time"]), plain(local_clock(s["time"], rec.clock())), plain(s["direction"]),
                          plain(s["activity"]))
        sched.display = bool(p.schedule_gmt)
        runs = rec.navigator.results.get("flow.schedule")
        upcoming = (runs.evidence.get("next_runs") if runs else None) or []
        self.show_text("next-runs", "Next: " + "; ".join(f"{flat(r['activity'])} {r['local']} ({r['gmt']})"
                                                         for r in upcoming[:3]) if upcoming else
                       ("" if p.schedule_gmt else "No fixed schedule: the Backfill pushes what was missed."))
        self.show_text("large", flat(p.large_tenant))

    def after_results(self, results: list) -> None:  # noqa: ANN001
        self.refresh_frame()
