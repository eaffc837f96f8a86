"""The wizard: a Textual app that walks the platform admin and the Salesforce admin through the recovery.

One screen (``frame.WizardScreen``) for the whole recovery: the frame is built once and each step is a pane
swapped in it. The recovery (the core's ``Recovery``: session, navigator, connection) is built in a thread
worker as soon as the first frame is up; a demo's sandbox starts beside it and is attached when it answers, so
step 1 is on screen, with its keys, before the sandbox is.

Keys typed while a dialog opens or closes are held and handed on once it has focus (or is gone): a fast typist's
name never loses its first letters to the step behind, and what is typed after Enter is not typed into the name.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from . import messages as m

if TYPE_CHECKING:
    from sfwizard.cli import WizardOptions
    from sfwizard.recovery.wizard import Recovery

    from .frame import WizardScreen

Boot = Callable[["WizardApp", bool], "Recovery"]  # (app, resume?) → the recovery, built off the UI thread
FIRST_SCREEN_WAIT = 1.0  # seconds a demo's sandbox waits for step 1 to be drawn before starting anyway
HOLD_LIMIT = 1.0  # seconds: held keys are handed on by then even if a dialog never took focus


class WizardApp(App[int]):
    CSS_PATH = "wizard.tcss"
    TITLE = "sfwizard"
    ENABLE_COMMAND_PALETTE = True
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    BINDINGS = [
        Binding("ctrl+q", "quit_wizard", "Quit", priority=True),
        Binding("ctrl+c", "quit_wizard", "Quit", show=False, priority=True),
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
        self._stop: list[Callable[[], None]] = []
        self.first_drawn = threading.Event()  # step 1 is on screen (a demo's sandbox starts then)
        self._held: list[tuple[str, str | None]] | None = None  # keys held while a dialog opens or closes
        self._replay: list[tuple[str, str | None]] = []  # held keys being handed on, one by one
        self._hold_timer: Any = None
        self._quit_question: Screen[Any] | None = None

    @property
    def frame(self) -> WizardScreen:
        from .frame import WizardScreen

        for screen in reversed(self.screen_stack):
            if isinstance(screen, WizardScreen):
                return screen
        raise LookupError("the wizard's frame is not up")

    # -- start-up ----------------------------------------------------------------------------------------
    def on_mount(self) -> None:
        from .frame import WizardScreen

        frame = WizardScreen()
        self.push_screen(frame)
        if self.recovery is not None:  # given a recovery (tests): straight to its step
            frame.show_recovery(self.recovery)
            return
        found = None if self.options.demo or self.options.new_session else resumable(self.options.profile)
        if found is None:
            self._boot(resume=False)
            return
        from .dialogs import ChoiceDialog

        text = (f"An unfinished {found['profile']} recovery, last saved {found['updated_at']}, stopped at step "
                f"“{found['step']}” ({found['completed']} step(s) done).")
        self.open_dialog(ChoiceDialog("Resume the recovery?", text,
                                      [("new", "Start a new one", "default"), ("resume", "Resume", "primary")]),
                         lambda answer: self._boot(resume=answer == "resume"))

    @work(thread=True, exclusive=True, group="boot", exit_on_error=False)
    def _boot(self, resume: bool) -> None:
        recovery = self._boot_fn(self, resume)
        self.post_message(m.Booted(recovery))

    def on_booted(self, message: m.Booted) -> None:
        self.recovery = message.recovery
        self.frame.show_recovery(message.recovery)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "boot" or event.state != WorkerState.ERROR:
            return
        self.boot_failed(event.worker.error)

    def boot_failed(self, error: BaseException | None) -> None:
        from sfwizard.errors import SfwizardError

        if isinstance(error, SfwizardError):
            failed = m.BootFailed(error.message, error.hint)
        else:
            import logging

            logging.getLogger("sfwizard").error("the wizard could not start", exc_info=error)
            failed = m.BootFailed(f"could not start: {type(error).__name__}: {error}",
                                  "run again with --debug and send the log (sfwizard report)")
        self.frame.post_message(failed)

    def add_stopper(self, stop: Callable[[], None]) -> None:
        self._stop.append(stop)

    # -- dialogs, and the keys typed while one opens or closes ----------------------------------------------
    def open_dialog(self, dialog: Screen[Any], callback: Callable[[Any], None] | None = None) -> None:
        """Push a question; keys typed from now until it has focus go to it, not to the step behind."""
        self.hold_keys()
        self.push_screen(dialog, callback)

    def hold_keys(self) -> None:
        if self._held is None:
            self._held = []
        if self._replay:  # keys still being handed on belong after those held from now
            self._held[:0] = self._replay
            self._replay = []
        if self._hold_timer is not None:
            self._hold_timer.stop()
        self._hold_timer = self.set_timer(HOLD_LIMIT, self.release_keys)

    def release_keys(self) -> None:
        """Hand the held keys on, one at a time, each once the one before it is handled (a dialog's Enter
        closes it before the next key arrives, so that key goes where the person meant it to)."""
        held, self._held = self._held, None
        if self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None
        self._replay += held or []
        self._drip()

    def _drip(self) -> None:
        if self._held is not None or not self._replay:
            return
        key, character = self._replay.pop(0)
        event = events.Key(key, character)
        event.set_sender(self)  # as from the terminal: it bubbles back to the app, where bindings are checked
        self.post_message(event)
        if self._replay:
            self.call_after_refresh(self._drip)

    def hold_key(self, key: str, character: str | None) -> None:
        """Hold one more key (a dialog field saw it after its Enter): handed on with the rest."""
        self.hold_keys()
        assert self._held is not None
        self._held.append((key, character))

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            if self._held is not None:  # fresh from the terminal, or bubbled back unhandled: a binding would act
                self._held.append((event.key, event.character))
                return
            if not self.screen_stack:  # a key after the last screen went (quitting): nobody to take it
                return
        await super().on_event(event)

    # -- leaving -------------------------------------------------------------------------------------------
    def busy(self) -> bool:
        return any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) and w.group != "boot" for w in self.workers)

    def action_quit_wizard(self) -> None:
        if self._quit_question is not None or not self.busy():  # pressed again while asked: quit
            self.exit(0)
            return
        from .dialogs import ChoiceDialog

        rec = self.recovery
        if rec is not None and rec.demo_scenario:
            text = "A check or a wait is still running. This is a demo: its sandbox stops and the demo starts " \
                   "afresh next time. Ctrl+Q again quits."
        else:
            text = "A check or a wait is still running. What is done so far is saved in the recovery session; " \
                   "you can resume it later. Ctrl+Q again quits."

        def answer(choice: str | None) -> None:
            self._quit_question = None
            if choice == "quit":
                self.exit(0)

        self._quit_question = ChoiceDialog("Quit while work is in flight?", text,
                                           [("stay", "Stay", "default"), ("quit", "Quit", "error")])
        self.open_dialog(self._quit_question, answer)

    def action_toggle_dark(self) -> None:
        self.theme = "textual-light" if self.current_theme.dark else "textual-dark"

    def on_unmount(self) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        rec = self.recovery
        if rec is not None:
            self._end_one_off_sign_in(rec)
            rec.close()
        while self._stop:
            try:
                self._stop.pop()()
            except Exception:  # noqa: BLE001 - stopping the sandbox must not turn an exit into a traceback
                import logging

                logging.getLogger("sfwizard").warning("could not stop a helper cleanly", exc_info=True)

    @staticmethod
    def _end_one_off_sign_in(rec: Recovery) -> None:
        """A sign-in held in memory only (--no-keep) ends with the wizard: revoked at Salesforce on the way out —
        in a thread of its own, waited for a few seconds at most (the screen is already gone)."""
        import threading

        if rec.demo_scenario or rec.sign_in_store() != "memory" or rec.session.sign_in_state.get("revoked_at"):
            return
        worker = threading.Thread(target=rec.end_sign_in, name="end-sign-in", daemon=True)
        worker.start()
        worker.join(timeout=5)

    # -- the command palette ---------------------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        from .frame import WizardScreen

        if not isinstance(screen, WizardScreen) or self.recovery is None or screen.pane is None:
            return
        yield SystemCommand("Re-run checks", "Run this step's checks again", screen.action_rerun)
        yield SystemCommand("Open the runbook section", "The runbook's words for this step", screen.action_explain)
        yield SystemCommand("Export report", "Write the report and the support bundle now", self.action_export_report)
        yield SystemCommand("Switch theme (dark/light)", "Toggle between the dark and the light theme",
                            self.action_toggle_dark)
        nav = self.recovery.navigator
        for step in nav.steps:
            if nav.can_go_to(step.id) and step.id != screen.step:
                yield SystemCommand(f"Go to step: {step.title}", "A step already reached",
                                    lambda step_id=step.id: screen.go_to(step_id))

    def action_export_report(self) -> None:
        rec = self.recovery
        if rec is None:
            return
        if rec.navigator.can_go_to("report"):
            self.frame.go_to("report")
            return
        from pathlib import Path

        self._export_worker(rec, Path.cwd())

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def _export_worker(self, rec: Recovery, out_dir: Any) -> None:
        files = rec.write_report(out_dir)
        self.call_from_thread(self.notify, f"Report: {files.report}\nBundle: {files.bundle}", title="Exported",
                              timeout=12, markup=False)


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


def scenario_profile(scenario: str) -> str | None:
    """The profile a scenario names (following ``extends:``), read off its file without loading it: the demo's
    step 1 goes up while its sandbox starts. None when it cannot tell (the sandbox's word is used then)."""
    import re
    from pathlib import Path

    from sfwizard import sandbox

    folder = Path(sandbox.__file__).parent / "scenarios"
    name, seen = scenario, 0
    while name and seen < 8:
        seen += 1
        path = Path(name)
        if not path.suffix:
            candidates = [folder / f"{name}.yaml", folder / "diagnosis" / f"{name}.yaml"]
            path = next((c for c in candidates if c.is_file()), path)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")[:200_000]
        except OSError:
            return None
        found = re.search(r"^profile:\s*['\"]?([\w-]+)", text, re.M)
        if found:
            return found.group(1)
        parent = re.search(r"^extends:\s*['\"]?([^'\"\s#]+)", text, re.M)
        name = parent.group(1) if parent else ""
    return "gainsight-px" if seen and not name else None


def default_boot(options: WizardOptions) -> Boot:
    """How the wizard sets up for real runs and for --demo: the recovery first (step 1 up at once), a demo's
    sandbox in the background, attached to the recovery when it answers."""

    def boot(app: WizardApp, resume: bool) -> Recovery:
        from sfwizard.recovery.session import RecoverySession
        from sfwizard.recovery.wizard import Recovery, setup_from_settings

        if not options.demo:
            profile, setup = setup_from_settings(options.profile, options.sign_in_flags(), keep=options.keep_sign_in)
            session = RecoverySession.latest(profile, demo=False, unfinished=True) if resume else None
            session = session or RecoverySession.new(profile)
            return Recovery(profile, setup, session)
        profile = options.profile or scenario_profile(options.scenario) or "gainsight-px"
        session = RecoverySession.new(profile, demo_scenario=options.scenario)
        rec = Recovery(profile, None, session, demo_scenario=options.scenario)
        _start_demo_sandbox(app, rec, options)
        return rec

    return boot


def _start_demo_sandbox(app: WizardApp, rec: Recovery, options: WizardOptions) -> None:
    """The demo's sandbox in a process of its own (in the wizard's it would share the interpreter with the
    screen), stopped with the wizard; attached to the recovery once it answers."""
    import contextlib
    import threading

    stack = contextlib.ExitStack()
    app.add_stopper(stack.close)

    def start() -> None:
        # Step 1 first: on two cores a new interpreter importing the sandbox would slow the first screen down;
        # the sandbox is only needed once step 1's checks run (they wait for it).
        app.first_drawn.wait(FIRST_SCREEN_WAIT)
        try:
            from sfwizard.sandbox_child import sandbox_process

            info = stack.enter_context(sandbox_process(options.scenario))
            from sfwizard.demo import demo_environment

            env = demo_environment(info, options.scenario, rec.profile.name, stack)
            rec.attach(env.setup, demo=env.info, vendor=env.vendor)
        except BaseException as exc:  # noqa: BLE001 - said on screen; the app stays up to show it
            app.call_from_thread(app.boot_failed, exc)

    threading.Thread(target=start, name="demo-sandbox", daemon=True).start()
