"""What every step screen shares: the frame (header, step list, who acts, the gate, Back/Skip/Next), the
bindings shown in the footer, and the thread workers that run checks and report back with messages.

A step module subclasses ``StepScreen``, composes its body, says which checks it shows, and reacts to
results. All network work goes through ``app.recovery`` (the core) inside thread workers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, OptionList, ProgressBar, Static
from textual.worker import Worker, WorkerState

from . import messages as m
from .dialogs import ConfirmDialog, PersonAnswer, SkipDialog, TextDialog, evidence_text
from .widgets import ActorPanel, AppHeader, CheckTable, GateBar, StepList, flat

if TYPE_CHECKING:
    from sfwizard.checks.base import CheckResult
    from sfwizard.recovery.wizard import Recovery

    from .app import WizardApp


class StepScreen(Screen[None]):
    """One wizard step. Subclasses set STEP and compose_body(); most also override on_enter()."""

    STEP: ClassVar[str] = ""
    SHOWS_CHECKS: ClassVar[bool] = True  # a table of this step's checks
    AUTO_RUN: ClassVar[bool] = True  # run the step's checks when it is first shown

    BINDINGS = [
        Binding("n", "next", "Next", priority=False),
        Binding("b", "back", "Back"),
        Binding("s", "skip", "Skip…"),
        Binding("r", "rerun", "Re-run"),
        Binding("v", "vendor", "Do the click"),
        Binding("c", "confirm", "Confirm"),
        Binding("escape", "stop", "Stop", show=False),
        Binding("f1", "runbook", "Runbook", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(name=self.STEP)
        self.busy = ""
        self._entered = False

    # -- the frame ------------------------------------------------------------------------------------
    @property
    def wizard(self) -> WizardApp:
        return self.app  # type: ignore[return-value]

    @property
    def recovery(self) -> Recovery | None:
        return self.wizard.recovery

    def compose(self) -> ComposeResult:
        yield AppHeader()
        with Horizontal(id="frame"):
            yield StepList(id="steps")
            with Vertical(id="main"):
                yield Static("", id="step-title", markup=False)
                with VerticalScroll(id="body"):
                    yield ActorPanel(id="actors")
                    yield Static("", id="demo-note", classes="demo-note", markup=False)
                    yield from self.compose_body()
                    if self.SHOWS_CHECKS:
                        yield ProgressBar(id="progress", show_eta=False)
                        yield CheckTable(id="checks")
                yield GateBar(id="gate")
                with Horizontal(id="nav"):
                    yield Button("◀ Back", id="back")
                    yield Button("Skip…", id="skip", variant="warning")
                    yield Button("Next ▶", id="next", variant="primary")
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        progress = self.query("#progress")
        if progress:
            progress.first().display = False
        self.refresh_frame()

    def on_screen_resume(self) -> None:
        try:
            self.refresh_frame()
        except Exception as exc:  # a drawing fault must not stop the step from doing its work; say it once
            import logging

            logging.getLogger("sfwizard").error("could not draw step %s", self.STEP, exc_info=exc)
            self.notify(f"could not draw this step: {type(exc).__name__}: {exc}", severity="error", markup=False)
        if self.recovery is not None and not self._entered:
            self._entered = True
            self.on_enter()

    def workers_running(self) -> bool:
        return any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in self.workers)

    def refresh_frame(self) -> None:
        rec = self.recovery
        self.query_one(AppHeader).show(rec)
        if rec is None:
            self.query_one(GateBar).show(None)
            return
        nav = rec.navigator
        self.query_one(StepList).show(nav)
        number = nav.index(self.STEP) + 1 if self.STEP in [s.id for s in nav.steps] else 0
        self.query_one("#step-title", Static).update(f"Step {number} of {len(nav.steps)} · "
                                                     f"{nav.step(self.STEP).title}")
        self.query_one(ActorPanel).show(rec.profile.actors_of(self.STEP), rec.profile.vendor)
        note = self.query_one("#demo-note", Static)
        click = rec.pending_click(self.STEP) if rec.demo is not None else None
        note.display = bool(click)
        if click and rec.demo is not None:
            note.update(f"Demo: press v — {flat(click)} — or do it yourself on the vendors' stand-in pages at "
                        f"{rec.demo.admin_url}")
        if self.SHOWS_CHECKS:
            table = self.query_one(CheckTable)
            for r in rec.results_of(self.STEP):
                table.put_result(r)
            table.display = bool(rec.step_checks(self.STEP))
        self.refresh_gate()

    def refresh_gate(self) -> None:
        rec = self.recovery
        gate = rec.navigator.gate(self.STEP) if rec is not None else None
        self.query_one(GateBar).show(gate, self.busy)
        self.query_one("#next", Button).disabled = gate is None or not gate.open
        self.query_one("#back", Button).disabled = rec is None or rec.navigator.previous_step is None
        self.query_one("#skip", Button).disabled = rec is None or self.STEP == "report"
        self.refresh_bindings()

    # -- what a step does when shown (subclasses) ---------------------------------------------------------
    def on_enter(self) -> None:
        if self.AUTO_RUN and self.SHOWS_CHECKS:
            self.run_checks()

    def after_results(self, results: list[CheckResult]) -> None:
        """Called on the UI thread when a run of checks ends."""

    # -- running checks ---------------------------------------------------------------------------------------
    def run_checks(self, ids: list[str] | None = None) -> None:
        rec = self.recovery
        if rec is None:
            return
        wanted = ids if ids is not None else rec.step_checks(self.STEP)
        if not wanted:
            self.refresh_gate()
            return
        if self.SHOWS_CHECKS:
            table = self.query_one(CheckTable)
            from sfwizard.checks.runner import specs_for

            titles = {s.id: s.title for s in specs_for(rec.profile.name)}
            table.set_pending([(c, titles.get(c, c)) for c in wanted])
            bar = self.query_one("#progress", ProgressBar)
            bar.display = True
            bar.update(total=len(wanted), progress=0)
        self.set_busy(f"checking ({len(wanted)})")
        rec.cancel()  # a re-run replaces the run under way
        self._checks_worker(wanted)

    @work(thread=True, exclusive=True, group="checks", exit_on_error=False)
    def _checks_worker(self, ids: list[str]) -> list[CheckResult]:
        rec = self.recovery
        assert rec is not None
        results = rec.run_checks(ids, on_result=lambda r: self.post_message(m.CheckFinished(r)),
                                 progress=lambda p: self.post_message(m.ChecksProgress(p)))
        self.post_message(m.ChecksDone(results))
        return results

    def on_check_finished(self, message: m.CheckFinished) -> None:
        if self.SHOWS_CHECKS:
            self.query_one(CheckTable).put_result(message.result)
            self.query_one("#progress", ProgressBar).advance(1)

    def on_checks_progress(self, message: m.ChecksProgress) -> None:
        p = message.progress
        if p.total and p.done < p.total:
            self.set_busy(f"{flat(p.label)} ({p.done + 1} of {p.total})")

    def on_checks_done(self, message: m.ChecksDone) -> None:
        if self.SHOWS_CHECKS:
            self.query_one("#progress", ProgressBar).display = False
        self.set_busy("")
        self.after_results(message.results)
        self.wizard.refresh_chrome()

    def set_busy(self, text: str) -> None:
        self.busy = text
        self.refresh_gate()

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """One place where a job's failure becomes one clear line and a way forward."""
        if event.state == WorkerState.SUCCESS:
            if self.busy and not self.workers_running():
                self.set_busy("")  # a wait that ended without news (a watch given up, a canned answer)
            return
        if event.state not in (WorkerState.ERROR, WorkerState.CANCELLED):
            return
        from sfwizard.cancel import Cancelled
        from sfwizard.errors import SfwizardError

        error = event.worker.error
        self.set_busy("")
        if self.SHOWS_CHECKS and self.query("#progress"):
            self.query_one("#progress", ProgressBar).display = False
        if event.state == WorkerState.CANCELLED or isinstance(error, Cancelled):
            self.post_message(m.JobFailed(event.worker.group, "stopped", cancelled=True))
            return
        if isinstance(error, SfwizardError):
            self.post_message(m.JobFailed(event.worker.group, error.message, error.hint))
        else:
            import logging

            logging.getLogger("sfwizard").error("a wizard job failed", exc_info=error)
            self.post_message(m.JobFailed(event.worker.group, f"unexpected error: {type(error).__name__}: {error}",
                                          "run again with --debug and send the support bundle"))

    def on_job_failed(self, message: m.JobFailed) -> None:
        if message.cancelled:
            if self.is_current:  # a wait stopped because its step was left needs no word
                self.notify("Stopped.", timeout=3)
        else:
            text = flat(message.message) + (f" — {flat(message.hint)}" if message.hint else "")
            self.notify(text, title="Could not finish", severity="error", timeout=12, markup=False)
        self.refresh_gate()

    # -- moving --------------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        rec = self.recovery
        if action == "next":
            return True if rec is not None and rec.navigator.gate(self.STEP).open else None
        if action == "back":
            return True if rec is not None and rec.navigator.previous_step is not None else None
        if action == "skip":
            return rec is not None and self.STEP != "report"
        if action == "vendor":  # only a demo clicks in the vendor's UI, and only where a click is due
            return rec is not None and rec.vendor is not None and bool(rec.pending_click(self.STEP))
        if action == "confirm":
            return self._confirmable() is not None
        if action == "rerun":
            return True if rec is not None and rec.step_checks(self.STEP) else False
        return True

    def action_next(self) -> None:
        rec = self.recovery
        if rec is None:
            return
        gate = rec.navigator.gate(self.STEP)
        if not gate.open:
            self.notify(flat(gate.reason), title="Next is locked", severity="warning", markup=False)
            return
        self.wizard.go(rec.navigator.next().id)

    def action_back(self) -> None:
        rec = self.recovery
        if rec is not None and rec.navigator.previous_step is not None:
            self.wizard.go(rec.navigator.back().id)

    def action_skip(self) -> None:
        rec = self.recovery
        if rec is None:
            return
        step = rec.navigator.step(self.STEP)

        def done(answer: PersonAnswer | None) -> None:
            if answer is not None:
                self.wizard.person = answer.who
                self.wizard.go(rec.navigator.skip(answer.text, answer.who).id)

        self.app.push_screen(SkipDialog(step.title, self.wizard.person), done)

    def action_rerun(self) -> None:
        self.run_checks()

    def action_stop(self) -> None:
        if self.recovery is not None and self.workers_running():
            self.recovery.cancel()

    def action_runbook(self) -> None:
        rec = self.recovery
        if rec is None:
            return
        text = (rec.profile.runbook or {}).get(self.STEP, "")
        self.app.push_screen(TextDialog(f"Runbook · {rec.navigator.step(self.STEP).title}", text))

    @on(Button.Pressed, "#next")
    def _next_pressed(self) -> None:
        self.action_next()

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.action_back()

    @on(Button.Pressed, "#skip")
    def _skip_pressed(self) -> None:
        self.action_skip()

    @on(OptionList.OptionSelected, "#steps")
    def _step_chosen(self, event: OptionList.OptionSelected) -> None:
        rec = self.recovery
        target = event.option.id
        if rec is None or target is None or target == self.STEP:
            return
        if rec.navigator.can_go_to(target):
            self.wizard.go(rec.navigator.go_to(target).id)

    # -- the evidence, and confirming as a person -------------------------------------------------------------
    @on(CheckTable.RowSelected)
    def _row_selected(self, event: CheckTable.RowSelected) -> None:
        rec = self.recovery
        cid = str(event.row_key.value) if event.row_key is not None else None
        if rec is None or cid is None or cid not in rec.navigator.results:
            return
        self.app.push_screen(TextDialog("Evidence", evidence_text(rec.navigator.results[cid])))

    def _confirmable(self) -> CheckResult | None:
        """The first result of this step that only a person can answer and nobody has confirmed."""
        rec = self.recovery
        if rec is None:
            return None
        from sfwizard.checks.base import Status

        for r in rec.results_of(self.STEP):
            if r.status == Status.MANUAL and rec.navigator.confirmed(r.id) is None:
                return r
        return None

    def action_confirm(self) -> None:
        r = self._confirmable()
        rec = self.recovery
        if r is None or rec is None:
            return
        self.ask_confirmation(r.id, r.summary)

    def ask_confirmation(self, item: str, question: str, role: str = "platform_admin") -> None:
        rec = self.recovery
        assert rec is not None

        def done(answer: PersonAnswer | None) -> None:
            if answer is None:
                return
            self.wizard.person = answer.who
            rec.navigator.confirm(item, answer.who, answer.role)
            self.refresh_gate()
            self.wizard.refresh_chrome()
            self.after_confirm(item)

        self.app.push_screen(ConfirmDialog(question, rec.profile.vendor, self.wizard.person, role), done)

    def after_confirm(self, item: str) -> None:
        """Called after a person confirmed ``item`` on this step."""

    # -- the demo's vendor clicks ---------------------------------------------------------------------------------
    def action_vendor(self) -> None:
        rec = self.recovery
        if rec is None or rec.vendor is None or not rec.pending_click(self.STEP):
            return
        self.set_busy(f"performing: {rec.pending_click(self.STEP)}")
        self._click_worker()

    @work(thread=True, exclusive=True, group="click", exit_on_error=False)
    def _click_worker(self) -> str:
        rec = self.recovery
        assert rec is not None
        what = rec.perform_click(self.STEP)
        self.post_message(m.ClickDone(what))
        return what

    def on_click_done(self, message: m.ClickDone) -> None:
        self.set_busy("")
        self.notify(flat(message.what), title="Done in the vendor's UI (demo)", timeout=6, markup=False)
        self.after_click()

    def after_click(self) -> None:
        """What a step does once the (demo) vendor click happened: by default, check again."""
        self.run_checks()

    def on_booted(self, message: m.Booted) -> None:  # the first screen may be up before the sandbox is
        self.refresh_frame()
        if not self._entered and self.is_current:
            self._entered = True
            self.on_enter()

    def show_text(self, widget_id: str, text: str) -> None:
        self.query_one(f"#{widget_id}", Static).update(text)

    def evidence_of(self, cid: str) -> dict[str, Any]:
        rec = self.recovery
        r = rec.navigator.results.get(cid) if rec is not None else None
        return dict(r.evidence) if r is not None else {}
