"""Settings: what a real run needs — how sfwizard signs in, the connected app's client id, the platform's API key,
the status page — each with where to get it, where its value came from now, and a test against the service it
names. Reachable from step 1 (``g``) and the command palette; Esc goes back to the step. In a demo the values are
the sandbox's: shown and testable, never saved."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Button, Input, Static

from .pane import StepPane
from .widgets import Indented, TextField, flat, say

if TYPE_CHECKING:
    from sfwizard.recovery.setup_form import FieldTest, FieldView, SetupForm


class Step(StepPane):
    STEP = "settings"
    SHOWS_CHECKS = False
    AUTO_RUN = False
    BINDINGS = [Binding("ctrl+s", "save", "Save"), Binding("f5", "test", "Test this field")]

    def __init__(self) -> None:
        super().__init__()
        self.form: SetupForm | None = None
        self.tests: dict[str, FieldTest] = {}
        self.said: list[str] = []

    def compose_body(self) -> ComposeResult:
        yield Indented(id="intro", classes="note")
        yield Vertical(id="fields")
        yield Static("", id="saved", classes="note", markup=False)

    def on_mount(self) -> None:
        self._built: tuple[str, ...] = ()

    # -- the form --------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self.form is None:
            rec = self.rec
            from sfwizard.recovery.setup_form import SetupForm

            if rec.demo_scenario is not None and rec.setup is not None:
                self.form = SetupForm.for_demo(rec.profile.name, rec.setup)
            else:
                options = getattr(self.app, "options", None)
                flags = options.sign_in_flags() if options is not None and hasattr(options, "sign_in_flags") else {}
                self.form = SetupForm.load(rec.profile.name, flags)
        self.render_state()

    def render_state(self) -> None:
        form = self.form
        intro = self.query_one("#intro", Indented)
        if form is None:
            intro.show(["Reading the settings…"])
            return
        demo = form.demo
        intro.show([("", "", "The demo's settings are its sandbox's: shown and testable here, never saved." if demo
                     else "Fill in what this run needs; Enter keeps a field, F5 tests it against its service, "
                          "Ctrl+S saves (the API key goes to the OS keychain, never to the settings file). Esc "
                          "goes back to the step.")])
        views = form.fields()
        keys = tuple(v.key for v in views)
        box = self.query_one("#fields", Vertical)
        if keys != self._built:
            self._built = keys
            box.remove_children()
            widgets: list[Any] = []
            for v in views:
                widgets.append(Vertical(
                    Static(v.label, classes="section", markup=False),
                    TextField(value="" if v.kind == "secret" else v.shown, placeholder=self._placeholder(v),
                              password=v.kind == "secret", name=v.key, compact=True, classes="setting"),
                    Static("", classes="source note", name=f"src-{v.key}", markup=False),
                    Indented(classes="where note", name=f"where-{v.key}"),
                    Static("", classes="test", name=f"test-{v.key}", markup=False),
                    Button("Test", name=f"testbtn-{v.key}", compact=True, classes="testbtn"),
                    classes="setting-box"))
            box.mount_all(widgets)
            self.call_after_refresh(self._fill)
            return
        self._fill()

    def _fill(self) -> None:
        form = self.form
        if form is None:
            return
        for v in form.fields():
            for w in self.query(".source"):
                if w.name == f"src-{v.key}":
                    say(w, f"now: {v.shown or '—'} · from {v.source}" + (" · not saved yet" if v.changed else ""))
            for w in self.query(Indented):
                if w.name == f"where-{v.key}":
                    lines: list[tuple[str, str, str]] = [("• ", "  ", flat(x)) for x in v.help.where]
                    if v.help.checklist:
                        lines.append(("", "", "Create it with exactly these settings:"))
                        lines += [("  ☐ ", "    ", flat(x)) for x in v.help.checklist]
                    if v.help.choices:
                        lines.append(("", "", "One of: " + "; ".join(f"{k} — {w_}" for k, w_ in v.help.choices)))
                    w.show(lines)
            test = self.tests.get(v.key)
            for w in self.query(".test"):
                if w.name == f"test-{v.key}":
                    say(w, "" if test is None else ("✔ " if test.ok else "✘ ") + flat(test.words))
                    w.set_class(test is not None and test.ok, "-good")
                    w.set_class(test is not None and not test.ok, "-bad")
            for b in self.query(".testbtn"):
                if b.name == f"testbtn-{v.key}":
                    b.display = bool(v.help.test)
        say(self.query_one("#saved", Static), "\n".join(self.said))

    @staticmethod
    def _placeholder(v: FieldView) -> str:
        if v.kind == "secret":
            return "paste the key (it is not shown)" if v.empty else "set — paste a new key to replace it"
        if v.help.choices:
            return " / ".join(k for k, _w in v.help.choices) + (" / your own" if v.help.free else "")
        return v.label

    # -- editing, saving, testing -------------------------------------------------------------------------
    @on(Input.Submitted, ".setting")
    def _kept(self, event: Input.Submitted) -> None:
        self._set(event.input.name or "", event.value)

    def _set(self, key: str, value: str) -> bool:
        from sfwizard.errors import SfwizardError

        if self.form is None or not key:
            return False
        try:
            self.form.set(key, value)
        except SfwizardError as exc:
            self.notify(flat(exc.message), title="Not kept", severity="warning", markup=False)
            return False
        self.tests.pop(key, None)
        self._fill()
        return True

    def _focused_key(self) -> str:
        focused = self.app.focused
        return getattr(focused, "name", "") or "" if isinstance(focused, TextField) else ""

    def action_test(self, key: str | None = None) -> None:
        key = key or self._focused_key()
        if self.form is None or not key:
            self.notify("Move to a field (Tab), then F5 tests it.", timeout=4)
            return
        field = next((w for w in self.query(TextField) if w.name == key), None)
        if field is not None and field.value and field.value != self.form.view(key).shown:
            if not self._set(key, field.value):
                return
        self.busy = f"testing {self.form.view(key).label}"
        self._test(key)

    @on(Button.Pressed, ".testbtn")
    def _test_pressed(self, event: Button.Pressed) -> None:
        self.action_test((event.button.name or "").removeprefix("testbtn-"))

    @work(thread=True, exclusive=True, group="test", exit_on_error=False)
    def _test(self, key: str) -> None:
        assert self.form is not None
        result = self.form.test(key)
        self.app.call_from_thread(self._tested, key, result)

    def _tested(self, key: str, result: FieldTest) -> None:
        self.busy = ""
        self.tests[key] = result
        self._fill()

    def action_save(self) -> None:
        from sfwizard.errors import SfwizardError

        form = self.form
        if form is None:
            return
        for field in self.query(TextField):  # what is typed and not yet kept with Enter counts too
            key = field.name or ""
            view = form.view(key)
            if field.value and field.value != view.shown and not self._set(key, field.value):
                return
        if form.demo:
            self.notify("The demo's settings are its sandbox's; nothing to save.", timeout=5)
            return
        try:
            self.said = [f"Saved — {w}" for w in form.save()]
        except SfwizardError as exc:
            self.notify(flat(exc.message) + (f" — {flat(exc.hint)}" if exc.hint else ""), title="Not saved",
                        severity="error", markup=False)
            return
        rec = self.rec
        rec.attach(form.setup(keep=rec.setup.keep if rec.setup else True,
                              refresh=getattr(rec.setup, "refresh", True)))  # what the next job reaches
        self._fill()
        self.notify("Settings saved; the steps use them from now on.", timeout=5)

    def can(self, action: str) -> bool | None:
        if action in ("rerun", "confirm", "vendor"):
            return False
        return super().can(action)
