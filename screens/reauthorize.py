"""Step 5 · Re-authorize: what each admin clicks, then the wizard watches until the new token for the right
user in the right org shows up and the platform reports the integration UP — and turns green by itself.
Before anyone clicks, the token checks wait (they are not failures); a wrong org or a missing permission is named
here, with its fix."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from . import messages as m
from .pane import StepPane
from .widgets import Indented, flat, say


class Step(StepPane):
    STEP = "reauthorize"
    AUTO_RUN = False
    BINDINGS = [Binding("w", "watch", "Watch again"), Binding("a", "clicked", "We clicked it")]
    INTERVAL = 5.0

    def __init__(self) -> None:
        super().__init__()
        self.rounds = 0  # looks of the watch under way (0: not watching)

    def compose_body(self) -> ComposeResult:
        yield Indented(id="advice", classes="card")
        yield Static("", id="watching", classes="big", markup=False)
        yield Indented(id="fixes", classes="fixes")

    def render_state(self) -> None:
        rec = self.rec
        vendor = rec.profile.vendor
        click = "Reconnect" if rec.profile.name == "skilljar" else "Authorize"
        lines = [("", "", f"The {vendor} admin clicks {click}; the Salesforce admin logs in as the integration user "
                          "and clicks Allow."),
                 ("", "", "Logged in to several Salesforce orgs in this browser? Use a private (incognito) window, "
                          "so the approval goes to the org the data lives in, as the integration user — not to "
                          "whichever org the browser remembers.")]
        if rec.demo_scenario is None and not rec.navigator.has_fact("reauthorize_started"):
            lines.append(("", "", f"Press a once you have clicked {click} and Allow: until then the wizard waits "
                                  "and names nothing as a failure."))
        self.query_one("#advice", Indented).show(lines)
        gate = rec.lock(self.STEP)
        watching = self.query_one("#watching", Static)
        if gate.open:
            say(watching, "✔ The integration is authorized again: the right org, the right user, the permissions "
                            "it needs, and a fresh token.")
        elif self.rounds and self.workers_running():
            say(watching, f"Watching (look {self.rounds}): {flat(gate.reason)}")
        elif gate.code == "check.not_run":
            say(watching, "")
        else:
            say(watching, f"{'Waiting' if gate.code == 'action.pending' else 'Not yet'}: {flat(gate.reason)}")
        failing = [r for r in rec.results_of(self.STEP) if rec.navigator.shown_status(r.id) in ("fail", "warn")]
        self.query_one("#fixes", Indented).show(self.fix_lines(failing))
        super().render_state()

    def start(self) -> None:
        if not self.rec.navigator.gate(self.STEP).open or self.missing():
            self.action_watch()

    def action_watch(self) -> None:
        if self.workers_running("watch"):
            return
        self.rounds = 0
        self.busy = "watching for the new token (every few seconds)"
        self._watch()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "watch":
            return not self.workers_running()
        if action == "clicked":
            rec = self.rec
            return rec.demo_scenario is None and not rec.navigator.has_fact("reauthorize_started")
        return True

    def action_clicked(self) -> None:
        """The person says the click happened: "no token yet" is a finding from now on."""
        self.rec.mark_reauthorize_started()

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def _watch(self) -> None:
        rec = self.rec
        rec.cancel()
        def round_(n: int, results: list, g: object) -> None:
            self.still_wanted()  # left (or Esc): no more looks, whoever cleared the core's cancel meanwhile
            self.post_message(m.WatchRound(n, results, g))

        gate = rec.watch(self.STEP, interval=self.INTERVAL, on_round=round_)
        if gate.open:
            rec.mark_reauthorize_started()  # the new token is seen: writes and backfills are judged from here
            self.post_message(m.WatchRound(-1, [], gate))

    def on_watch_round(self, message: m.WatchRound) -> None:
        if message.round_no > 0:
            self.rounds = message.round_no
            self.running.clear()
        if message.gate.open and message.round_no < 0:
            self.busy = ""
            self.notify("Re-authorized and verified.", title="Step complete", timeout=6)
        self.render_state()
        self.frame.render_frame()

    def run_checks(self, ids: list[str] | None = None) -> None:
        if ids is None:  # r: look again now — a new watch replaces the one under way (exclusive worker)
            self.rounds = 0
            self.busy = "watching for the new token (every few seconds)"
            self._watch()
            return
        super().run_checks(ids)

    def can(self, action: str) -> bool | None:
        if action == "rerun":
            return True
        return super().can(action)

    def stopped(self, group: str) -> None:
        self.rounds = 0

    def after_click(self) -> None:
        self.action_watch()
