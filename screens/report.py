"""Step 11 · Report: writes the Markdown report, the redacted support bundle and a picture of the checklist (all
private to you), and shows where they are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Button, Static

from .pane import StepPane
from .widgets import Indented


class Step(StepPane):
    STEP = "report"
    SHOWS_CHECKS = False

    def compose_body(self) -> ComposeResult:
        yield Indented(id="files", classes="card")
        yield Button("Write the report again", id="write", variant="primary", compact=True)
        yield Static("Every file passes one redaction layer: no token, code, password or key leaves in them.",
                     classes="note")

    def on_mount(self) -> None:
        self.files: Any = None

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
            lines += ["", ("Folder: ", "        ", str(Path(files.report).parent)), "",
                      "Send the bundle with a support case; open the report in any Markdown viewer.",
                      "Press n to finish the recovery." if not self.rec.navigator.finished else
                      "The recovery is complete and recorded. Ctrl+Q quits."]
            card.show(lines)
        super().render_state()

    def before_next(self) -> bool:
        rec = self.rec
        if rec.navigator.gate(self.STEP).open:
            rec.navigator.next()
            rec.notify()
            self.render_state()
            self.notify("The recovery is complete and recorded. Ctrl+Q quits.", title="Done", timeout=10)
        return False
