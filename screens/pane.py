"""What every step's pane shares: its checks run in thread workers and report back with messages; it renders from
the recovery's state (``render_state``) — never from text read back out of a widget — and it says what its keys do.

A step module subclasses ``StepPane``: it composes its body, names its checks and its own keys (``BINDINGS``, shown
in the footer while the pane is in view), and reacts to results. All network work goes through ``self.rec`` (the
core's Recovery) inside workers; the frame (``screens.frame.WizardScreen``) draws everything around the pane.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widgets import DataTable, Input, ProgressBar, Static
from textual.worker import Worker, WorkerState

from . import messages as m
from .widgets import CheckTable, flat, say

if TYPE_CHECKING:
    from sfwizard.checks.base import CheckResult
    from sfwizard.recovery.wizard import Recovery

    from .app import WizardApp
    from .frame import WizardScreen


class StepPane(VerticalScroll, can_focus=True):
    STEP: ClassVar[str] = ""
    SHOWS_CHECKS: ClassVar[bool] = True  # the step's checks, in a table below its body
    AUTO_RUN: ClassVar[bool] = True  # run the step's checks when it is shown and they have not run (or went stale)

    busy: reactive[str] = reactive("", init=False)  # what the pane waits for, in words ("" when idle)

    def __init__(self) -> None:
        super().__init__(id=f"pane-{self.STEP}", classes="pane")
        self.running: set[str] = set()  # checks of a run under way, not back yet
        self._stale = False  # some of its results were dropped while it was busy or out of view
        self.ready = False  # composed and mounted: it can draw

    # -- where it lives ------------------------------------------------------------------------------------
    @property
    def wizard(self) -> WizardApp:
        return self.app  # type: ignore[return-value]

    @property
    def frame(self) -> WizardScreen:
        return self.screen  # type: ignore[return-value]

    @property
    def rec(self) -> Recovery:
        rec = self.wizard.recovery
        assert rec is not None  # a pane exists only once the recovery does
        return rec

    @property
    def in_view(self) -> bool:
        return self.ready and self.display and self.frame.pane is self

    def compose(self) -> ComposeResult:
        yield from self.compose_body()
        if self.SHOWS_CHECKS:
            yield ProgressBar(id="progress", show_eta=False, classes="progress")
            yield CheckTable(id="checks")
            yield Static("", id="check-detail", classes="detail", markup=False)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        for widget_id in ("#progress", "#check-detail"):
            for w in self.query(widget_id):
                w.display = False
        self.ready = True
        self.frame.pane_mounted(self)

    def first_focus(self) -> Any:
        """What takes the focus when the pane is shown (None: the pane itself, so its keys work at once)."""
        return None

    def before_next(self) -> bool:
        """Called before Next leaves the step; False keeps the person here (the step asked something)."""
        return True

    # -- shown and left (the frame calls these) ---------------------------------------------------------------
    def entered(self) -> None:
        """Shown (first visit or a return): draw from the state and start the step's work if it is due."""
        self._stale = False
        self.render_state()
        if self.workers_running():  # a job under way (not one of an earlier visit: those were cancelled on leaving)
            self._stale = True  # the step starts again once it has ended
        else:
            self.start()

    def start(self) -> None:
        """The step's own work when it is shown (by default: its checks, if they have not run or went stale)."""
        if self.AUTO_RUN and self.missing():
            self.run_checks()

    def left(self) -> None:
        """Hidden: this step's jobs end. The frame stops the job under way (the core's cancel); each worker is
        cancelled too, so a loop between two looks (a watch) ends even when another step's job has already
        cleared that cancel (``still_wanted``)."""
        for worker in list(self.workers):
            worker.cancel()

    @staticmethod
    def still_wanted() -> None:
        """Called by a worker's loop between rounds: a cancelled worker (its step left, Esc) stops here."""
        from textual.worker import get_current_worker

        from sfwizard.cancel import Cancelled

        if get_current_worker().is_cancelled:
            raise Cancelled("the step was left")

    def missing(self) -> list[str]:
        """The step's checks with no current result (never run, or dropped as stale)."""
        rec = self.rec
        return [c for c in rec.step_checks(self.STEP) if c not in rec.navigator.results]

    def state_moved(self, dropped: set[str]) -> None:
        """The recovery's state moved (a sign-in, a snapshot, a fact, a confirmation): draw again, and run again
        what went stale of this step's checks — now if it is in view and idle, else when it is."""
        self.render_state()
        if dropped & set(self.rec.step_checks(self.STEP)):
            self._stale = True
        self._rerun_stale()

    def _rerun_stale(self) -> None:
        if self._stale and self.in_view and not self.workers_running():
            self._stale = False
            self.start()

    def render_state(self) -> None:
        """Draw everything from the recovery's state. Subclasses draw their body, then call this."""
        if self.SHOWS_CHECKS:
            self.render_checks()

    def render_checks(self, ids: list[str] | None = None) -> None:
        rec = self.rec
        table = self.query_one(CheckTable)
        ids = rec.step_checks(self.STEP) if ids is None else ids
        table.display = bool(ids)
        titles = rec.check_titles()
        rows = []
        for cid in ids:
            r = rec.navigator.results.get(cid)
            if cid in self.running:
                rows.append((cid, titles.get(cid, cid), "running", "checking…"))
            elif r is None:
                rows.append((cid, titles.get(cid, cid), "waiting", self.not_run_words(cid)))
            else:
                rows.append((cid, r.title, rec.navigator.shown_status(cid), self.words(r)[0]))
        table.show(rows)
        self._detail(table)

    def words(self, r: CheckResult) -> tuple[str, str]:
        """A result's (finding, way forward) in the wizard's words: the way is a key or a pane of the wizard (or
        what a person does in the vendor's UI), never a shell command or an environment variable."""
        from sfwizard.recovery.remedies import wizard_words

        return wizard_words(r, demo=self.rec.demo_scenario is not None)

    def fix_lines(self, results: list[CheckResult], limit: int = 4) -> list[tuple[str, str, str]]:
        """The failing and warning results as finding / why / what to do, for a step's fixes box."""
        lines: list[tuple[str, str, str]] = []
        for r in results[:limit]:
            finding, way = self.words(r)
            icon = "✘" if r.status.value == "fail" else "!"
            lines += [(f"{icon} ", "  ", finding), ("   why: ", "        ", flat(r.cause)),
                      ("   fix: ", "        ", flat(way)), ("", "", "")]
        return lines

    def not_run_words(self, cid: str) -> str:
        if self.rec.signed_in is None and self.rec.needs_salesforce(cid):
            return "waits for the Salesforce sign-in (step 2)"
        return "not checked yet"

    # -- running checks ---------------------------------------------------------------------------------------
    def run_checks(self, ids: list[str] | None = None) -> None:
        rec = self.rec
        wanted = ids if ids is not None else rec.step_checks(self.STEP)
        if not wanted:
            self.frame.render_frame()
            return
        self.running = set(wanted)
        if self.SHOWS_CHECKS:
            bar = self.query_one("#progress", ProgressBar)
            bar.display = True
            bar.update(total=len(wanted), progress=0)
            self.render_checks()
        self.busy = "starting the demo's sandbox" if not rec.ready.is_set() else f"checking ({len(wanted)})"
        self._checks_worker(wanted)

    @work(thread=True, exclusive=True, group="checks", exit_on_error=False)
    def _checks_worker(self, ids: list[str]) -> list[CheckResult]:
        rec = self.rec
        rec.cancel()  # a re-run replaces the job under way (its worker ends at its next request)
        results = rec.run_checks(ids, on_result=lambda r: self.post_message(m.CheckFinished(r)),
                                 progress=lambda p: self.post_message(m.ChecksProgress(p)))
        self.post_message(m.ChecksDone(results, ids))
        return results

    def on_check_finished(self, message: m.CheckFinished) -> None:
        self.running.discard(message.result.id)
        if self.SHOWS_CHECKS:
            self.query_one("#progress", ProgressBar).advance(1)

    def on_checks_progress(self, message: m.ChecksProgress) -> None:
        p = message.progress
        if p.total and p.done < p.total and self.running:
            self.busy = f"{flat(p.label)} ({p.done + 1} of {p.total})"

    def on_checks_done(self, message: m.ChecksDone) -> None:
        self.running -= set(message.ids)
        self._run_ended()
        self.after_results(message.results)
        self.frame.render_frame()

    def _run_ended(self) -> None:
        if self.SHOWS_CHECKS:
            self.query_one("#progress", ProgressBar).display = False
        if not self.workers_running():
            self.busy = ""
        self.render_state()
        self.call_later(self._rerun_stale)

    def after_results(self, results: list[CheckResult]) -> None:
        """Called on the UI thread when a run of checks ends (the state is already drawn)."""

    def watch_busy(self) -> None:
        if self.is_mounted and self.in_view:
            self.frame.render_gate()

    def workers_running(self, *groups: str) -> bool:
        """Whether a job of this pane is under way (of these groups, when given); a cancelled one (its step left,
        Esc) is only winding down and counts as ended: the step can start again at once."""
        return any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) and not w.is_cancelled
                   and (not groups or w.group in groups) for w in self.workers)

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        """One place where a job's failure becomes one clear line and a way forward."""
        if event.worker.node is not self:
            return
        if event.state == WorkerState.SUCCESS:
            if not self.workers_running():
                self.running.clear()
                self._run_ended()
                self.frame.render_frame()
            return
        if event.state not in (WorkerState.ERROR, WorkerState.CANCELLED):
            return
        from sfwizard.cancel import Cancelled
        from sfwizard.errors import SfwizardError

        error = event.worker.error
        self.running.clear()
        self.stopped(event.worker.group)
        self._run_ended()
        self.frame.render_frame()
        if event.state == WorkerState.CANCELLED or isinstance(error, Cancelled):
            if self.in_view and self.frame.stop_asked:  # a wait stopped because its step was left needs no word
                self.notify("Stopped.", timeout=3)
            return
        if isinstance(error, SfwizardError):
            text = flat(error.message) + (f" — {flat(error.hint)}" if error.hint else "")
        else:
            import logging

            logging.getLogger("sfwizard").error("a wizard job failed", exc_info=error)
            text = f"unexpected error: {type(error).__name__}: {flat(error)} — run again with --debug and send the " \
                   "support bundle"
        self.notify(text, title="Could not finish", severity="error", timeout=12, markup=False)

    def stopped(self, group: str) -> None:
        """A job of this pane ended without its answer (Esc, an error): clear what waited for it."""

    def stop(self) -> None:
        """Esc: stop the wait under way; the step can be started again."""
        if self.workers_running():
            for worker in list(self.workers):
                worker.cancel()
            self.rec.cancel()

    # -- what the frame's keys do here -----------------------------------------------------------------------
    def can(self, action: str) -> bool | None:
        """Whether a frame action applies here now: True, False (hidden) or None (greyed)."""
        rec = self.rec
        if action == "vendor":  # only a demo clicks in the vendor's UI, and only where a click is due
            clicking = any(w.group == "click" and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
                           for w in self.workers)
            return rec.vendor is not None and bool(rec.pending_click(self.STEP)) and not clicking
        if action == "confirm":
            return self.confirmable() is not None
        if action == "rerun":
            return bool(rec.step_checks(self.STEP)) and not self.workers_running()
        if action == "stop":
            return self.workers_running()
        return True

    def rerun(self) -> None:
        self.run_checks()

    def confirmable(self) -> CheckResult | None:
        """The first result of this step that only a person can answer and nobody has confirmed."""
        from sfwizard.checks.base import Status

        rec = self.rec
        for r in rec.results_of(self.STEP):
            if r.status == Status.MANUAL and rec.navigator.confirmed(r.id) is None:
                return r
        return None

    def confirm(self) -> None:
        r = self.confirmable()
        if r is not None:
            self.frame.ask_confirmation(r.id, r.summary)

    def after_confirm(self, item: str) -> None:
        """Called after a person confirmed ``item`` on this step."""

    # -- the demo's vendor clicks -----------------------------------------------------------------------------
    def vendor(self) -> None:
        rec = self.rec
        if rec.vendor is None or not rec.pending_click(self.STEP):
            return
        self.busy = f"performing: {flat(rec.pending_click(self.STEP))}"
        self._click_worker()

    @work(thread=True, exclusive=True, group="click", exit_on_error=False)
    def _click_worker(self) -> str:
        what = self.rec.perform_click(self.STEP)
        self.post_message(m.ClickDone(what))
        return what

    def on_click_done(self, message: m.ClickDone) -> None:
        self.busy = ""
        self.notify(flat(message.what), title="Done in the vendor's UI (demo)", timeout=6, markup=False)
        self.after_click()

    def after_click(self) -> None:
        """What a step does once the (demo) vendor click happened: by default, check again."""
        self.run_checks()

    # -- the evidence ------------------------------------------------------------------------------------------
    @on(DataTable.RowSelected, "#checks")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        cid = str(event.row_key.value) if event.row_key is not None else None
        r = self.rec.navigator.results.get(cid) if cid else None
        if r is not None:
            from .dialogs import TextDialog, evidence_text

            self.app.push_screen(TextDialog("Evidence", evidence_text(r)))

    @on(DataTable.RowHighlighted, "#checks")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail(event.data_table)

    def on_descendant_focus(self, event: Any) -> None:
        self._detail(self.query(CheckTable).first() if self.SHOWS_CHECKS else None)
        widget = getattr(event, "widget", None)
        if widget is not None and widget is not self:
            self.call_after_refresh(self._keep_visible, widget)

    def on_descendant_blur(self, event: Any) -> None:
        self._detail(self.query(CheckTable).first() if self.SHOWS_CHECKS else None)

    def _keep_visible(self, widget: Any) -> None:
        if widget.is_mounted:
            self.scroll_to_widget(widget, animate=False)

    def _detail(self, table: Any) -> None:
        """The highlighted row's whole text, while the table has focus (cells are cut to fit)."""
        if table is None or not self.SHOWS_CHECKS:
            return
        detail = self.query_one("#check-detail", Static)
        cid = table.selected_id() if table.has_focus else None
        r = self.rec.navigator.results.get(cid) if cid else None
        if r is None:
            detail.display = False
            return
        detail.display = True
        status = self.rec.navigator.shown_status(r.id)
        finding, way = self.words(r)
        say(detail, f"{r.title} — {status}: {flat(finding)}" + (f"\nfix: {flat(way)}" if way
                                                                   and status in ("fail", "warn") else "")
                      + "\n(Enter: the evidence)")

    def on_key(self, event: Any) -> None:
        """Esc in a text field leaves it (focus back to the pane); a second Esc then stops a wait."""
        if event.key == "escape" and isinstance(self.app.focused, Input):
            event.stop()
            event.prevent_default()
            self.focus()

    def evidence_of(self, cid: str) -> dict[str, Any]:
        r = self.rec.navigator.results.get(cid)
        return dict(r.evidence) if r is not None else {}
