"""Step 8 · Knowledge (only where the tenant uses Salesforce Knowledge in the In-App Hub): the toggle (a person
confirms it: no API shows it), categories, accessibility, and a named article found and opened."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, Static

from .base import StepScreen
from .widgets import flat


class Step(StepScreen):
    STEP = "knowledge"
    BINDINGS = [Binding("o", "open_article", "Open the article")]

    def compose_body(self) -> ComposeResult:
        yield Static("", id="article", classes="card", markup=False)
        with Horizontal(classes="inline"):
            yield Input(placeholder="an article title you know exists", id="title")
            yield Button("Search", id="search")

    def refresh_frame(self) -> None:
        super().refresh_frame()
        rec = self.recovery
        if rec is None:
            return
        r = rec.navigator.results.get("knowledge.search")
        if r is None:
            self.show_text("article", "Searching for a known article…")
        else:
            link = r.evidence.get("link")
            self.show_text("article", flat(r.summary) + ("\nPress o to open it in Salesforce, then press c to "
                                                         "confirm it opened correctly." if link else ""))
        if rec.snapshot is not None and not self.query_one("#title", Input).value:
            self.query_one("#title", Input).value = rec.snapshot.knowledge.known_article

    def action_open_article(self) -> None:
        rec = self.recovery
        r = rec.navigator.results.get("knowledge.search") if rec else None
        link = r.evidence.get("link") if r else None
        if link:
            self.app.open_url(str(link))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm":
            return bool(super().check_action(action, parameters)) or self._article_to_confirm()
        if action == "open_article":
            rec = self.recovery
            r = rec.navigator.results.get("knowledge.search") if rec else None
            return r is not None and bool(r.evidence.get("link"))
        return super().check_action(action, parameters)

    @on(Button.Pressed, "#search")
    @on(Input.Submitted, "#title")
    def _search(self) -> None:
        rec = self.recovery
        if rec is None:
            return
        rec.known_article = self.query_one("#title", Input).value.strip() or None
        self.run_checks(["knowledge.search"])

    def after_results(self, results: list) -> None:  # noqa: ANN001
        self.refresh_frame()

    def after_click(self) -> None:
        self.run_checks()

    def _article_to_confirm(self) -> bool:
        rec = self.recovery
        r = rec.navigator.results.get("knowledge.search") if rec else None
        return bool(r is not None and r.evidence.get("link") and rec.navigator.confirmed("knowledge.article_opened")
                    is None)

    def action_confirm(self) -> None:
        if self._confirmable() is None and self._article_to_confirm():
            self.ask_confirmation("knowledge.article_opened", "The article opened correctly in Salesforce.")
            return
        super().action_confirm()

    def after_confirm(self, item: str) -> None:
        self.refresh_frame()
