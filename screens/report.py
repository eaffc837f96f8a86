"""Step 11 · Report: writes the Markdown report, the redacted support bundle and a picture of the checklist (all
private to you), and shows where they are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Button, Static

from .pane import StepPane
from .widgets import Indented, flat


class Step(StepPane):
    STEP = "report"
    SHOWS_CHECKS = False
    BINDINGS = [Binding("k", "keep", "Keep sign-in")]

    def compose_body(self) -> ComposeResult:
        yield Indented(id="files", classes="card")
        yield Button("Write the report again", id="write", variant="primary", compact=True)
        yield Static("Every file passes one redaction layer: no token, code, password or key leaves in them.",
                     classes="note")

    def on_mount(self) -> None:
        self.files: Any = None
        self.signed_out: Any = None  # what finishing did with the wizard's sign-in (a SignOutResult)

    def start(self) -> None:
        if self.files is None:
            self.write()

    def rerun(self) -> None:
        self.write()

    def can(self, action: str) -> bool | None:
        if action == "rerun":
            return not self.workers_running()
        return super().can(action)

    @on(Button.Pressed, "#write")
    def write(self) -> None:
        if self.workers_running():
            return
        self.busy = "writing the report and the support bundle"
        self._write()

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def _write(self) -> None:
        rec = self.rec
        files = rec.write_report(rec.session.dir / "report")
        self.app.call_from_thread(self._written, files)

    def _written(self, files: Any) -> None:
        self.files = files
        self.busy = ""
        self.render_state()
        self.frame.render_frame()

    def render_state(self) -> None:
        files = self.files
        card = self.query_one("#files", Indented)
        card.set_class(files is not None, "-good")
        if files is None:
            card.show(["Writing the report…"])
        else:
            lines = [("Report:          ", " " * 17, str(files.report)),
                     ("Support bundle:  ", " " * 17, str(files.bundle))]
            if files.screenshot is not None:
                lines.append(("Checklist:       ", " " * 17, str(files.screenshot)))
            if getattr(files, "png", None) is not None:
                lines.append(("Checklist (PNG): ", " " * 17, str(files.png)))
            lines += ["", ("Folder: ", "        ", str(Path(files.report).parent)), "",
                      "Send the bundle with a support case; open the report in any Markdown viewer."]
            lines += ["", *self._sign_in_lines()]
            lines.append("Press n to finish the recovery." if not self.rec.navigator.finished else
                         "The recovery is complete and recorded. Ctrl+Q quits.")
            card.show(lines)
        super().render_state()

    def _sign_in_lines(self) -> list[tuple[str, str, str]]:
        """What happens to the wizard's own Salesforce sign-in when the recovery ends (revoked unless kept)."""
        rec = self.rec
        if self.signed_out is not None:
            return [("The wizard's sign-in: ", "    ", flat(self.signed_out.message))]
        state = rec.session.sign_in_state
        store = rec.sign_in_store()
        if store is None:
            return [("The wizard's sign-in: ", "    ", "none is held")]
        where = {"keychain": "the OS keychain", "file": "a private file on this machine",
                 "memory": "memory only"}.get(store, store)
        if state.get("kept"):
            return [("The wizard's sign-in: ", "    ", f"kept in {where} after the recovery (k: revoke it when "
                                                       "you finish instead)")]
        return [("The wizard's sign-in: ", "    ", f"held in {where}; revoked at Salesforce when you finish (n)"
                                                   + (" — k keeps it for a next recovery" if store != "memory"
                                                      else ""))]

    def action_keep(self) -> None:
        rec = self.rec
        rec.keep_sign_in(not rec.session.sign_in_state.get("kept"))
        self.render_state()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "keep":
            rec = self.rec
            return rec.sign_in_store() in ("keychain", "file") and self.signed_out is None
        return True

    def before_next(self) -> bool:
        """Finishing: the wizard's sign-in ends (revoked at Salesforce unless kept), the report says so, and the
        recovery is recorded as finished."""
        rec = self.rec
        if rec.navigator.gate(self.STEP).open and not self.workers_running():
            self.busy = "finishing: ending the wizard's sign-in and writing the report again"
            self._finish()
        return False

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def _finish(self) -> None:
        rec = self.rec
        result = rec.end_sign_in() if rec.sign_in_store() is not None else None
        files = rec.write_report(rec.session.dir / "report")
        self.app.call_from_thread(self._finished, result, files)

    def _finished(self, result: Any, files: Any) -> None:
        rec = self.rec
        self.signed_out, self.files = result, files
        self.busy = ""
        if not rec.navigator.finished:
            rec.navigator.next()
        rec.notify()
        self.render_state()
        self.notify("The recovery is complete and recorded" + (f"; {flat(result.message)}" if result else "")
                    + ". Ctrl+Q quits.", title="Done", timeout=10, markup=False)
