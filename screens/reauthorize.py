"""Step 5 · Re-authorize: what each admin clicks, then the wizard watches until the new token for the right
user in the right org shows up and the platform reports the integration UP — and turns green by itself.
A wrong org or a missing permission is named here, with its fix."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from . import messages as m
from .base import StepScreen
from .widgets import flat


class Step(StepScreen):
    STEP = "reauthorize"
    AUTO_RUN = False
    BINDINGS = [Binding("w", "watch", "Watch again", show=False)]
    INTERVAL = 5.0

    def compose_body(self) -> ComposeResult:
        yield Static("", id="advice", classes="card", markup=False)
        yield Static("", id="watching", classes="big", markup=False)
        yield Vertical(id="fixes", classes="fixes")

    def refresh_frame(self) -> None:
        super().refresh_frame()
        rec = self.recovery
        if rec is None:
            return
        self.show_text("advice", "Logged in to several Salesforce orgs in this browser? Use a private (incognito) "
                                 "window, so the approval goes to the production org and the integration user — "
                                 "not to whichever org the browser remembers.")
        self._show_fixes()

    def on_enter(self) -> None:
        self.action_watch()

    def action_watch(self) -> None:
        rec = self.recovery
        if rec is None:
            return
        rec.cancel()
        self.set_busy("watching for the new token (checks every few seconds)")
        self._watch()

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def _watch(self) -> None:
        rec = self.recovery
        assert rec is not None
        gate = rec.watch(self.STEP, interval=self.INTERVAL,
                         on_round=lambda n, results, g: self.post_message(m.WatchRound(n, results, g)))
        if gate.open and not rec.session.reauthorized_at:
            rec.mark_reauthorize_started()  # pushes and backfills are judged from here on

    def on_watch_round(self, message: m.WatchRound) -> None:
        from .widgets import CheckTable

        table = self.query_one(CheckTable)
        for r in message.results:
            table.put_result(r)
        if message.gate.open:
            self.set_busy("")
            self.show_text("watching", "✔ The integration is authorized again: the right org, the right user, "
                                       "the permissions it needs, and a fresh token.")
            self.notify("Re-authorized and verified.", title="Step complete", timeout=6)
        else:
            self.show_text("watching", f"Waiting… (look {message.round_no}) {flat(message.gate.reason)}")
        self._show_fixes()
        self.wizard.refresh_chrome()

    def _show_fixes(self) -> None:
        rec = self.recovery
        box = self.query_one("#fixes", Vertical)
        box.remove_children()
        if rec is None:
            return
        failing = [r for r in rec.results_of(self.STEP) if r.status.value in ("fail", "warn")]
        for r in failing[:4]:
            box.mount(Static(f"{'✘' if r.status.value == 'fail' else '!'} {flat(r.summary)}\n"
                             f"   why: {flat(r.cause)}\n   fix: {flat(r.resolution)}", classes="fix", markup=False))

    def after_click(self) -> None:
        self.action_watch()
