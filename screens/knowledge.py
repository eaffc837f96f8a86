"""Step 8 · Knowledge (only where the tenant uses Salesforce Knowledge in the In-App Hub): the toggle (a person
confirms it: no API shows it), categories, accessibility, and a named article found and opened. The search runs on
what was typed last (debounced; an answer to an older search is never shown)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input

from .pane import StepPane
from .widgets import Indented, TextField, flat

DEBOUNCE = 0.6  # seconds of quiet typing before a search starts by itself


class Step(StepPane):
    STEP = "knowledge"
    BINDINGS = [Binding("o", "open_article", "Open the article")]

    def compose_body(self) -> ComposeResult:
        yield Indented(id="article", classes="card")
        with Horizontal(classes="inline"):
            yield TextField(placeholder="an article title you know exists", id="title", compact=True)
            yield Button("Search", id="search", compact=True)

    def on_mount(self) -> None:
        self._timer = None
        self._filled = False

    def render_state(self) -> None:
        rec = self.rec
        r = rec.navigator.results.get("knowledge.search")
        if "knowledge.search" in self.running:
            text = [("", "", f"Searching for “{flat(rec.known_article or '')}”…")]
        elif r is None:
            text = [("", "", "Type the title of an article you know exists; the search runs as you stop typing.")]
        else:
            link = r.evidence.get("link")
            text = [("", "", flat(r.summary))]
            if link:
                text.append(("", "", "Press o to open it in Salesforce, then c to confirm it opened correctly."))
        self.query_one("#article", Indented).show(text)
        field = self.query_one("#title", Input)
        if not self._filled:
            self._filled = True
            if not field.value:
                field.value = rec.known_article or (rec.snapshot.knowledge.known_article if rec.snapshot else "")
        super().render_state()

    # -- the search: what was typed last wins -----------------------------------------------------------------
    @on(Input.Changed, "#title")
    def _typed(self, event: Input.Changed) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE, lambda value=event.value: self._search(value))

    @on(Input.Submitted, "#title")
    def _submitted(self, event: Input.Submitted) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._search(event.value)

    @on(Button.Pressed, "#search")
    def _pressed(self) -> None:
        self._search(self.query_one("#title", Input).value)

    def _search(self, text: str) -> None:
        title = text.strip()
        if not title or title == (self.rec.known_article or "") and "knowledge.search" in self.rec.navigator.results:
            return
        self.rec.known_article = title  # the old answer goes stale (its basis is the title searched)
        self.run_checks(["knowledge.search"])

    # -- opening and confirming ---------------------------------------------------------------------------------
    def action_open_article(self) -> None:
        link = self.evidence_of("knowledge.search").get("link")
        if link:
            self.app.open_url(str(link))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_article":
            return bool(self.evidence_of("knowledge.search").get("link"))
        return True

    def can(self, action: str) -> bool | None:
        if action == "confirm":
            return bool(super().can(action)) or self._article_to_confirm()
        return super().can(action)

    def _article_to_confirm(self) -> bool:
        rec = self.rec
        return bool(self.evidence_of("knowledge.search").get("link")
                    and rec.navigator.confirmed("knowledge.article_opened") is None)

    def confirm(self) -> None:
        if self.confirmable() is None and self._article_to_confirm():
            self.frame.ask_confirmation("knowledge.article_opened", "The article opened correctly in Salesforce.")
            return
        super().confirm()

    def after_click(self) -> None:
        self.run_checks()
