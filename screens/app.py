"""The wizard: a Textual app that walks the platform admin and the Salesforce admin through the recovery.

The app owns the recovery (the core's ``Recovery``: session, navigator, connection) and switches between
one screen per step. Setting up (the demo's sandbox, settings, the session) runs in a thread worker after
the first screen is up, so the wizard is interactive at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import WorkerState

from . import messages as m

if TYPE_CHECKING:
    from sfwizard.cli import WizardOptions
    from sfwizard.recovery.wizard import Recovery

    from .base import StepScreen

Boot = Callable[["WizardApp", bool], "Recovery"]  # (app, resume?) → the recovery, built off the UI thread


def step_screens() -> dict[str, type[StepScreen]]:
    from . import (
        before,
        checklist,
        connect,
        impact,
        knowledge,
        mappings,
        reauthorize,
        report,
        sync,
        troubleshoot,
        validate,
    )

    modules = (before, connect, impact, mappings, reauthorize, sync, validate, knowledge, troubleshoot,
               checklist, report)
    return {mod.Step.STEP: mod.Step for mod in modules}


class StartScreen(Screen[None]):
    """What shows while the wizard sets up (a fraction of a second; about a second when the demo's sandbox
    starts). Plain on purpose — a title line, two lines of text and the key line, no header or footer widgets
    and no animation: it is the screen whose speed a person feels first (benchmarks/run.py: first screen)."""

    BINDINGS = [Binding("ctrl+q", "app.quit_wizard", "Quit")]

    def compose(self) -> ComposeResult:
        yield Static("sfwizard", id="start-title", markup=False)
        with Vertical(id="start"):
            yield Static("Recover a disconnected Salesforce integration, step by verified step.", id="tagline")
            demo = getattr(getattr(self.app, "options", None), "demo", False)
            yield Static("Setting up… (starting the demo's sandbox)" if demo else "Setting up…", id="start-status",
                         markup=False)
        yield Static("^q Quit", id="start-keys", markup=False)

    def on_boot_failed(self, message: m.BootFailed) -> None:
        from .widgets import flat

        self.query_one("#start-status", Static).update(f"{flat(message.message)}\n\n{flat(message.hint)}\n\n"
                                                         "Press Ctrl+Q to quit.")


class WizardApp(App[int]):
    CSS_PATH = "wizard.tcss"
    TITLE = "sfwizard"
    ENABLE_COMMAND_PALETTE = True
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    BINDINGS = [
        Binding("ctrl+q", "quit_wizard", "Quit", priority=True),
        Binding("ctrl+t", "toggle_dark", "Theme", show=False),
    ]

    def __init__(self, options: WizardOptions | None = None, *, boot: Boot | None = None,
                 recovery: Recovery | None = None) -> None:
        super().__init__()
        from sfwizard.cli import WizardOptions

        self.options = options or WizardOptions()
        self._boot_fn = boot or default_boot(self.options)
        self.recovery: Recovery | None = recovery
        self.person = ""  # the name last typed in a confirm or skip dialog (offered again)
        self.checklist_svg: str | None = None  # the checklist as shown, for the report
        self._screens: dict[str, StepScreen] = {}
        self._stop: list[Callable[[], None]] = []

    # -- start-up ----------------------------------------------------------------------------------------
    def on_mount(self) -> None:
        if self.recovery is not None:  # given a recovery (tests): straight to its step
            self.go(self.recovery.navigator.current_id)
            return
        self.push_screen(StartScreen())
        # Held until the first screen is drawn: the boot thread's imports and set-up would otherwise share the
        # interpreter with the first frame (benchmarks/run.py: first screen).
        self.call_after_refresh(self._offer_resume)

    def _offer_resume(self) -> None:
        """An unfinished recovery session (not a demo's) is offered for resume before anything starts."""
        found = None if self.options.demo or self.options.new_session else resumable(self.options.profile)
        if found is None:
            self._boot(resume=False)
            return
        from .dialogs import ChoiceDialog

        text = (f"An unfinished {found['profile']} recovery, last saved {found['updated_at']}, stopped at step "
                f"“{found['step']}” ({found['completed']} step(s) done).")
        self.push_screen(ChoiceDialog("Resume the recovery?", text,
                                      [("new", "Start a new one", "default"), ("resume", "Resume", "primary")]),
                         lambda answer: self._boot(resume=answer == "resume"))

    @work(thread=True, exclusive=True, group="boot", exit_on_error=False)
    def _boot(self, resume: bool) -> None:
        recovery = self._boot_fn(self, resume)
        self.post_message(m.Booted(recovery))

    def on_booted(self, message: m.Booted) -> None:
        self.recovery = message.recovery
        self.go(message.recovery.navigator.current_id)

    def on_worker_state_changed(self, event: Any) -> None:
        if event.worker.group != "boot" or event.state != WorkerState.ERROR:
            return
        from sfwizard.errors import SfwizardError

        error = event.worker.error
        if isinstance(error, SfwizardError):
            failed = m.BootFailed(error.message, error.hint)
        else:
            import logging

            logging.getLogger("sfwizard").error("the wizard could not start", exc_info=error)
            failed = m.BootFailed(f"could not start: {type(error).__name__}: {error}",
                                  "run again with --debug and send the log (sfwizard report)")
        self.screen.post_message(failed)

    def add_stopper(self, stop: Callable[[], None]) -> None:
        self._stop.append(stop)

    # -- moving between steps ------------------------------------------------------------------------------
    def go(self, step_id: str) -> None:
        leaving = self.screen
        if self.recovery is not None and getattr(leaving, "workers_running", lambda: False)():
            # A wait on the step being left (a watch, a sign-in) ends now — before the next step starts its
            # own work, so the stop can never land on the new step's job.
            self.recovery.cancel()
        _hold_collector()
        try:
            screen = self._screens.get(step_id)
            if screen is None:
                screen = step_screens()[step_id]()
                self._screens[step_id] = screen
                self.install_screen(screen, name=f"step-{step_id}")
            if len(self.screen_stack) <= 1:  # only Textual's default screen under it: the first step goes on top
                self.push_screen(f"step-{step_id}")
            else:
                self.switch_screen(f"step-{step_id}")
        finally:
            self.call_after_refresh(_settle_heap)  # the collector back on, whatever happened

    def refresh_chrome(self) -> None:
        """Redraw what every screen shows (header, step list, gate) after the state moved.

        The screen shown may be one still being built — a step's checks that end just as a person presses
        Next land here — and its widgets are not all there yet: it draws itself when it is (on its resume)."""
        screen = self.screen
        refresh = getattr(screen, "refresh_frame", None)
        if refresh is not None and screen.is_mounted:
            refresh()

    # -- leaving -------------------------------------------------------------------------------------------
    def busy(self) -> bool:
        return any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) and w.group != "boot"
                   for s in self._screens.values() for w in s.workers)

    def action_quit_wizard(self) -> None:
        if not self.busy():
            self.exit(0)
            return

        def answer(choice: str | None) -> None:
            if choice == "quit":
                self.exit(0)

        from .dialogs import ChoiceDialog

        self.push_screen(ChoiceDialog("Quit while work is in flight?",
                                      "A check or a wait is still running. What is done so far is saved in the "
                                      "recovery session; you can resume it later.",
                                      [("stay", "Stay", "default"), ("quit", "Quit", "error")]), answer)

    def action_toggle_dark(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def on_unmount(self) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        if self.recovery is not None:
            self.recovery.close()
        while self._stop:
            try:
                self._stop.pop()()
            except Exception:  # noqa: BLE001 - stopping the sandbox must not turn an exit into a traceback
                import logging

                logging.getLogger("sfwizard").warning("could not stop a helper cleanly", exc_info=True)

    # -- the command palette ---------------------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        step = getattr(screen, "STEP", "")
        if step and self.recovery is not None:
            yield SystemCommand("Re-run checks", "Run this step's checks again", screen.action_rerun)  # type: ignore
            yield SystemCommand("Open the runbook section", "The runbook's words for this step",
                                screen.action_runbook)  # type: ignore[attr-defined]
            yield SystemCommand("Export report", "Write the report and the support bundle now",
                                self.action_export_report)
            yield SystemCommand("Switch theme (dark/light)", "Toggle between the dark and the light theme",
                                self.action_toggle_dark)

    def action_export_report(self) -> None:
        self.go("report") if self.recovery and self.recovery.navigator.can_go_to("report") else \
            self._export_now()

    def _export_now(self) -> None:
        from pathlib import Path

        rec = self.recovery
        if rec is None:
            return
        svg = self.export_screenshot()
        self._export_worker(rec, Path.cwd(), svg)

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def _export_worker(self, rec: Recovery, out_dir: Any, svg: str) -> None:
        files = rec.write_report(out_dir, screenshot_svg=svg)
        self.call_from_thread(self.notify, f"Report: {files.report}\nBundle: {files.bundle}", title="Exported",
                              timeout=12, markup=False)


def _hold_collector() -> None:
    """No garbage collection while a step screen is built: its tens of thousands of new objects would start
    one in the middle of the build (benchmarks/run.py: stall). ``_settle_heap`` lets it run again."""
    import gc

    gc.disable()


def _settle_heap() -> None:
    """Move what is alive once a step is drawn (its widgets, the core's modules) out of the collector's sight.

    A full garbage collection scans every tracked object; after a few steps that is 250,000 objects and a
    90–200 ms pause of the event loop (benchmarks/run.py: stall). Frozen objects are still freed by reference
    counting when they go; only cycles among them wait — a step screen is kept for the session anyway.
    """
    import gc

    gc.freeze()
    gc.enable()


def resumable(profile: str | None) -> dict[str, Any] | None:
    """The newest unfinished real (not demo) session, for the profile when one is given."""
    from sfwizard.recovery.session import RecoverySession

    for info in RecoverySession.list_sessions():
        if info.get("demo_scenario") or info.get("finished_at"):
            continue
        if profile and info["profile"] != profile:
            continue
        return info
    return None


def default_boot(options: WizardOptions) -> Boot:
    """How the wizard sets up for real runs and for --demo (the sandbox starts in the background)."""

    def boot(app: WizardApp, resume: bool) -> Recovery:
        demo_env = None
        if options.demo:
            import contextlib

            from sfwizard.sandbox_child import sandbox_process

            # The sandbox in a process of its own (in the wizard's it would share the interpreter with the
            # screen), started before the core is imported: the imports would otherwise take the interpreter
            # from the first screen while it answers its first keys, and the sandbox takes longer to come up.
            stack = contextlib.ExitStack()
            app.add_stopper(stack.close)
            info = stack.enter_context(sandbox_process(options.scenario))
            from sfwizard.demo import demo_environment

            demo_env = demo_environment(info, options.scenario, options.profile, stack)
            profile, setup = demo_env.profile, demo_env.setup
        from sfwizard.recovery.session import RecoverySession
        from sfwizard.recovery.wizard import Recovery, setup_from_settings

        if demo_env is None:
            profile, setup = setup_from_settings(options.profile)
        session = None
        if resume:
            session = RecoverySession.latest(profile, demo=False, unfinished=True)
        if session is None:
            session = RecoverySession.new(profile, demo_scenario=options.scenario if options.demo else None)
        return Recovery(profile, setup, session, demo=demo_env.info if demo_env else None,
                        vendor=demo_env.vendor if demo_env else None)

    return boot
