"""Modal dialogs that return a small value: skip with a reason, confirm as a person, resume, quit,
and a read-only text panel (evidence, the runbook section). Each dismisses with its answer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from .widgets import TextField, actor_label, flat


@dataclass(frozen=True)
class PersonAnswer:
    who: str
    role: str
    text: str = ""


class Field(TextField):
    """A dialog's text field. Enter submits what is in the field at that moment; keys typed after it in the same
    burst are held by the app (handed to the step behind once the dialog is gone, or back here if the answer is
    refused) — never typed into the name."""

    async def _on_key(self, event: events.Key) -> None:
        app = self.app
        if getattr(app, "_held", None) is not None and event.key != "escape":
            event.stop()
            event.prevent_default()
            app.hold_key(event.key, event.character)  # type: ignore[attr-defined]

    def submitted(self) -> None:
        hold = getattr(self.app, "hold_keys", None)
        if hold is not None:
            hold()
        super().submitted()


class _Dialog(ModalScreen[Any]):
    """A question on top of the wizard. Keys typed while it opens are handed to it once it has focus (the app
    holds them); keys typed after its answer go to the step behind, once it is gone — never into its fields."""

    BINDINGS = [Binding("escape", "escape", "Cancel")]
    answered = False

    def on_mount(self) -> None:
        self.call_after_refresh(self._opened)

    def _opened(self) -> None:
        release = getattr(self.app, "release_keys", None)
        if release is not None:
            release()

    def action_escape(self) -> None:
        """Esc leaves a text field (focus to the buttons); a second Esc cancels the dialog."""
        if isinstance(self.focused, Input):
            buttons = self.query(Button)
            if buttons:
                buttons.first().focus()
                return
        self.dismiss(None)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def dismiss(self, result: Any = None) -> Any:  # type: ignore[override]
        if self.answered:  # a second Enter in the same burst: the answer is already on its way
            return None
        self.answered = True
        hold = getattr(self.app, "hold_keys", None)
        if hold is not None:
            hold()  # what is typed next is for the step behind: held until this dialog is gone
            self.app.call_after_refresh(self.app.release_keys)  # type: ignore[attr-defined]
        return super().dismiss(result)


class FormDialog(_Dialog):
    """A dialog with fields, a problem line and Cancel / OK: Enter in a field or OK submits, and ``submit``
    either dismisses with the answer or says what is wrong in the problem line."""

    def form_end(self, ok: str, variant: str = "primary") -> ComposeResult:
        yield Static("", id="problem", classes="problem", markup=False)
        with Horizontal(classes="buttons"):
            yield Button("Cancel", id="cancel")
            yield Button(ok, id="ok", variant=variant)  # type: ignore[arg-type]

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.dismiss(None)
        else:
            self.submit(self.values())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # The field's value as it was at Enter (``event.value``): keys typed after Enter in the same burst may
        # already be in the field by the time this message is handled.
        self.submit(self.values({event.input.id or "": event.value}))
        if not self.answered:  # refused (a name missing): the keys typed after Enter come back here
            release = getattr(self.app, "release_keys", None)
            if release is not None:
                release()

    def values(self, at_enter: dict[str, str] | None = None) -> dict[str, str]:
        out = {w.id: w.value for w in self.query(Input) if w.id}
        out.update(at_enter or {})
        return out

    def problem(self, text: str) -> None:
        self.query_one("#problem", Static).update(text)

    def submit(self, values: dict[str, str]) -> None:
        raise NotImplementedError


class SkipDialog(FormDialog):
    """Pass over a step: the reason and the person are recorded and appear in the report."""

    AUTO_FOCUS = "#reason"  # what a person types first is the reason, even straight after pressing s

    def __init__(self, step_title: str, default_who: str = "") -> None:
        super().__init__()
        self.step_title = step_title
        self.default_who = default_who

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Skip “{flat(self.step_title)}”", classes="dialog-title", markup=False)
            yield Static("Say why; it goes into the report.", classes="muted")
            yield Field(placeholder="reason (for example: the Salesforce admin joins tomorrow)", id="reason")
            yield Field(value=self.default_who, placeholder="your name", id="who")
            yield from self.form_end("Skip the step", "warning")

    def submit(self, values: dict[str, str]) -> None:
        reason, who = values.get("reason", "").strip(), values.get("who", "").strip()
        if not reason or not who:
            self.problem("both a reason and a name are needed")
            self.query_one("#reason" if not reason else "#who", Input).focus()
            return
        self.dismiss(PersonAnswer(who=who, role="", text=reason))


class ConfirmDialog(FormDialog):
    """A person confirms what no API shows; who they are and their role are recorded with the time."""

    AUTO_FOCUS = "#who"

    def __init__(self, question: str, vendor: str, default_who: str = "", role: str = "platform_admin") -> None:
        super().__init__()
        self.question, self.vendor, self.default_who, self.role = question, vendor, default_who, role

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Confirm", classes="dialog-title")
            yield Static(flat(self.question), markup=False)
            with RadioSet(id="role"):
                for role in ("platform_admin", "salesforce_admin"):
                    yield RadioButton(actor_label(role, self.vendor), value=role == self.role, id=role)
            yield Field(value=self.default_who, placeholder="your name", id="who")
            yield from self.form_end("Confirm", "success")

    def submit(self, values: dict[str, str]) -> None:
        who = values.get("who", "").strip()
        if not who:
            self.problem("say who confirms")
            return
        pressed = self.query_one("#role", RadioSet).pressed_button
        role = pressed.id if pressed is not None and pressed.id else self.role
        self.dismiss(PersonAnswer(who=who, role=role))


class ChoiceDialog(_Dialog):
    """A question with a few answers (resume or start again; quit while work is in flight)."""

    def __init__(self, title: str, text: str, choices: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.title_text, self.text, self.choices = title, text, choices  # (id, label, variant)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(flat(self.title_text), classes="dialog-title", markup=False)
            yield Static(self.text, markup=False)
            with Horizontal(classes="buttons"):
                for cid, label, variant in self.choices:
                    yield Button(label, id=cid, variant=variant)  # type: ignore[arg-type]

    def on_mount(self) -> None:
        self.query(Button).last().focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)


class TextDialog(_Dialog):
    """Read-only text: a check's evidence, or the runbook's section for this step."""

    BINDINGS = [Binding("escape,q,enter", "dismiss_none", "Close")]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text, self.body = title, body

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(flat(self.title_text), classes="dialog-title", markup=False)
            with VerticalScroll(classes="dialog-body"):
                yield Static(self.body, markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Close", id="close", variant="primary")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)


def evidence_text(result: Any) -> str:
    """A check's result as plain text for the evidence panel (its reason code, cause, fix, evidence)."""
    lines = [f"{result.title}", f"status: {result.status.value}"]
    reason = getattr(result, "reason", "")
    if reason:
        lines.append(f"reason: {reason}")
    lines.append(f"found: {flat(result.summary)}")
    if result.cause:
        lines.append(f"cause: {flat(result.cause)}")
    if result.resolution:
        lines.append(f"what to do: {flat(result.resolution)}")
    if result.evidence:
        lines += ["", "evidence:", json.dumps(result.evidence, indent=2, default=str, ensure_ascii=False)]
    return "\n".join(lines)


class DisconnectDialog(FormDialog):
    """Skilljar's disconnect time, as the dashboard's alert shows it (no API does): typed, or corrected."""

    AUTO_FOCUS = "#when"

    def __init__(self, current: str = "") -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("When did the integration disconnect?", classes="dialog-title")
            yield Static("As the Skilljar dashboard's alert shows it, in your time: 2026-11-20 14:30. The 21-day "
                         "Backfill window runs from it.", classes="muted")
            yield Field(value=self.current, placeholder="2026-11-20 14:30", id="when")
            yield from self.form_end("Use this time")

    def submit(self, values: dict[str, str]) -> None:
        from datetime import datetime

        text = values.get("when", "").strip()
        try:
            moment = datetime.fromisoformat(text.replace(" ", "T"))
        except ValueError:
            self.problem("write the time as 2026-11-20 14:30 (your time)")
            return
        self.dismiss(moment if moment.tzinfo else moment.astimezone())
