"""Step 11 · Report: writes the Markdown report, the redacted support bundle and an SVG picture of the
checklist (all private to you), and shows where they are."""

from __future__ import annotations

from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Button, Static

from .base import StepScreen


class Step(StepScreen):
    STEP = "report"
    SHOWS_CHECKS = False

    def compose_body(self) -> ComposeResult:
        yield Static("", id="files", classes="card", markup=False)
        yield Button("Write the report", id="write", variant="primary")
        yield Static("Every file passes one redaction layer: no token, code, password or key leaves in them.",
                     classes="note")

    def on_enter(self) -> None:
        self.write()

    @on(Button.Pressed, "#write")
    def write(self) -> None:
        rec = self.recovery
        if rec is None:
            return
        self.set_busy("writing the report and the support bundle")
        self._write(self.wizard.checklist_svg)

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def _write(self, svg: str | None) -> None:
        rec = self.recovery
        assert rec is not None
        files = rec.write_report(rec.session.dir / "report", screenshot_svg=svg)
        self.app.call_from_thread(self._written, files)

    def _written(self, files) -> None:  # noqa: ANN001
        self.set_busy("")
        lines = [f"Report:          {files.report}", f"Support bundle:  {files.bundle}"]
        if files.screenshot is not None:
            lines.append(f"Checklist (SVG): {files.screenshot}")
        lines += ["", f"Folder: {Path(files.report).parent}", "",
                  "Send the bundle with a support case; open the report in any Markdown viewer.",
                  "Press n to finish the recovery."]
        self.show_text("files", "\n".join(lines))
        self.query_one("#files", Static).set_class(True, "-good")
        self.wizard.refresh_chrome()

    def action_next(self) -> None:
        rec = self.recovery
        if rec is None or not rec.navigator.gate(self.STEP).open:
            super().action_next()
            return
        rec.navigator.next()
        self.wizard.refresh_chrome()
        self.notify("The recovery is complete and recorded. Ctrl+Q quits.", title="Done", timeout=10)
