"""The one wizard screen: header, step list, who acts, the step's pane, the gate, Back/Skip/Next and the keys —
built once. Each step is a pane in a ``ContentSwitcher``, mounted on its first visit; moving between steps shows
another pane and redraws the frame here, in one place (``render_frame``).

The frame's keys (n, b, s, r, c, v, Esc, F1) act on the pane in view; a pane's own keys (its ``BINDINGS``) are
active and shown in the footer while it is in view, wherever the focus is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Button, ContentSwitcher, OptionList, Static

from . import messages as m
from .widgets import ActorPanel, AppHeader, GateBar, KeyBar, StepList, flat

if TYPE_CHECKING:
    from sfwizard.recovery.wizard import Recovery

    from .dialogs import PersonAnswer
    from .pane import StepPane

MIN_WIDTH, MIN_HEIGHT = 80, 24


def pane_class(step_id: str) -> type[StepPane]:
    """The pane of a step (its module imported on the first visit)."""
    import importlib

    module = {"before": "before", "connect": "connect", "impact": "impact", "mappings": "mappings",
              "reauthorize": "reauthorize", "sync": "sync", "validate": "validate", "knowledge": "knowledge",
              "troubleshoot": "troubleshoot", "checklist": "checklist", "report": "report",
              "security": "security", "settings": "settings"}[step_id]
    return importlib.import_module(f"{__package__}.{module}").Step  # type: ignore[no-any-return]


class WizardScreen(Screen[None]):
    AUTO_FOCUS = None  # the pane in view takes the focus (its keys work at once), not the step list
    BINDINGS = [
        Binding("n", "next", "Next"),
        Binding("b", "back", "Back"),
        Binding("s", "skip", "Skip…"),
        Binding("r", "rerun", "Re-run"),
        Binding("c", "confirm", "Confirm"),
        Binding("v", "vendor", "Do it (demo)"),
        Binding("g", "settings", "Settings"),  # shown on the first two steps (what a first run needs) …
        Binding("g", "settings_anywhere", "Settings", show=False),  # … and works from any step
        Binding("escape", "stop", "Stop", show=False),
        Binding("f1", "explain", "Why/runbook", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False, priority=True),
        Binding("pagedown", "page(1)", "Page down", show=False, priority=True),
    ]

    def __init__(self) -> None:
        super().__init__(id="wizard")
        self.rec: Recovery | None = None
        self.pane: StepPane | None = None
        self.step = ""  # the step in view
        self._panes: dict[str, StepPane] = {}
        self.stop_asked = False  # the last stop was a person's Esc (said), not a step left (silent)
        self.return_to = ""  # the step the settings pane goes back to
        self._failed: m.BootFailed | None = None
        self._shown_title = ""  # what the title and the demo note last said (unchanged: not updated again)
        self._note = ""

    def compose(self) -> ComposeResult:
        yield AppHeader(id="header")
        with Horizontal(id="frame"):
            yield StepList(id="steps")
            with Vertical(id="main"):
                yield Static("", id="step-title", markup=False)
                yield ActorPanel(id="actors")
                yield Static("", id="demo-note", classes="demo-note", markup=False)
                yield ContentSwitcher(id="panes")
                yield Static("Setting up…", id="setting-up", classes="card", markup=False)
                yield GateBar(id="gate")
                with Horizontal(id="nav"):
                    yield Button("◀ Back", id="back", compact=True)
                    yield Button("Skip…", id="skip", variant="warning", compact=True)
                    yield Button("Next ▶", id="next", variant="primary", compact=True)
        yield KeyBar(id="keys")
        yield Static("", id="too-small", markup=False)

    def on_mount(self) -> None:
        self.query_one("#demo-note").display = False
        self.query_one("#too-small").display = False
        self._fit(self.app.size.width, self.app.size.height)
        self.set_interval(30.0, self._tick)  # Skilljar's Backfill window in the header counts down by the minute
        if self.rec is not None:
            self._show(self.rec)

    def _tick(self) -> None:
        if self.rec is not None and self.rec.profile.backfill is not None and self.live:
            self.query_one(AppHeader).show(self.rec)

    # -- the recovery arrives ---------------------------------------------------------------------------------
    def show_recovery(self, rec: Recovery) -> None:
        self.rec = rec
        rec.offer_security_step = True  # the wizard has the Security review's pane: the step is offered
        rec.subscribe(lambda dropped: self.post_message(m.StateMoved(frozenset(dropped))))
        if self.is_mounted:
            self._show(rec)

    def _show(self, rec: Recovery) -> None:
        self.query_one("#setting-up").display = False
        self.go(rec.navigator.current_id)

    def on_boot_failed(self, message: m.BootFailed) -> None:
        self._failed = message
        card = self.query_one("#setting-up", Static)
        card.display = True
        card.add_class("-bad")
        card.update(f"{flat(message.message)}\n\n{flat(message.hint)}\n\nCtrl+Q quits.")
        if self.pane is not None:
            self.pane.display = False

    def on_state_moved(self, message: m.StateMoved) -> None:
        if not self.live:
            return
        for pane in self._panes.values():
            if pane.ready:
                pane.state_moved(set(message.dropped))
        self.render_frame()

    # -- moving between steps ---------------------------------------------------------------------------------
    def go(self, step_id: str) -> None:
        """Show ``step_id``'s pane: a wait of the step left ends first, so its stop never lands on the new one."""
        if step_id != "settings":
            self.return_to = ""
        old = self.pane
        if old is not None and old.STEP != step_id:
            if old.workers_running() and self.rec is not None:
                self.stop_asked = False
                self.rec.cancel()
            old.left()
        self.step = step_id
        pane = self._panes.get(step_id)
        switcher = self.query_one("#panes", ContentSwitcher)
        if pane is None:
            pane = pane_class(step_id)()
            self._panes[step_id] = pane
            self.pane = pane
            switcher.add_content(pane, set_current=True)  # mounted now; it draws itself on mount (entered)
        else:
            self.pane = pane
            switcher.current = pane.id
            pane.entered()
        if self._failed is None:
            pane.display = True
        self.render_frame()
        if pane.ready:  # a return: focus now, in the same frame (a focus a frame later draws everything twice)
            self._focus_pane(pane)
        else:
            self.call_after_refresh(self._focus_pane, pane)

    def pane_mounted(self, pane: StepPane) -> None:
        """A pane's first visit: it is built; if still the one in view, it draws and starts."""
        if pane is self.pane and self.live:
            pane.entered()
            self.render_frame()
            self._focus_pane(pane)
            self.call_after_refresh(self.app.first_drawn.set)  # type: ignore[attr-defined]

    def _focus_pane(self, pane: StepPane) -> None:
        if pane is self.pane and pane.ready and self.app.screen is self:
            first = pane.first_focus()
            (first or pane).focus(scroll_visible=False)

    def step_lock(self) -> Any:
        """The gate of the step in view, told as the panel and the rows tell it (``Recovery.lock``)."""
        assert self.rec is not None
        return self.rec.lock(self.step)

    @property
    def in_settings(self) -> bool:
        return self.step == "settings"

    def action_settings(self) -> None:
        """The settings pane, from any step (Esc goes back)."""
        if self.rec is None or self.in_settings:
            return
        self.return_to = self.step
        self.go("settings")
        self.return_to = self.return_to or self.rec.navigator.current_id

    def action_settings_anywhere(self) -> None:
        self.action_settings()

    def leave_settings(self) -> None:
        if self.in_settings and self.rec is not None:
            self.go(self.rec.navigator.current_id)

    def go_to(self, step_id: str) -> None:
        rec = self.rec
        if rec is not None and rec.navigator.can_go_to(step_id):
            self.go(rec.navigator.go_to(step_id).id)

    # -- the frame, redrawn in one place ----------------------------------------------------------------------
    @property
    def live(self) -> bool:
        """Up and not being torn down (a pane that finishes mounting as the wizard quits draws nothing)."""
        return self.is_attached and not self._closing and not self._closed and not self.app._exit

    def render_frame(self) -> None:
        if not self.live:
            return
        rec = self.rec
        self.query_one(AppHeader).show(rec)
        if rec is None or self.pane is None:
            self.query_one(GateBar).show(None)
            return
        nav = rec.navigator
        self.query_one(StepList).show(nav, nav.current_id if self.in_settings else self.step)
        ids = [s.id for s in nav.steps]
        if self.in_settings:
            back = nav.step(nav.current_id).title
            self._title(f"Settings · Esc goes back to {back}")
            self.query_one(ActorPanel).show({}, rec.profile.vendor)
            self.query_one("#demo-note").display = False
            self.render_gate()
            return
        number = ids.index(self.step) + 1 if self.step in ids else 0
        self._title(f"Step {number} of {len(ids)} · {nav.step(self.step).title}")
        self.query_one(ActorPanel).show(rec.profile.actors_of(self.step), rec.profile.vendor)
        note = self.query_one("#demo-note", Static)
        click = rec.pending_click(self.step) if rec.vendor is not None else None
        note.display = bool(click) and self.pane.can("vendor") is True
        if click and self._note != click:
            self._note = click
            note.update(f"Demo: press v — {flat(click)}")
        self.render_gate()

    def _title(self, text: str) -> None:
        if text != self._shown_title:  # an update re-lays the frame out even when the words are the same
            self._shown_title = text
            self.query_one("#step-title", Static).update(text)

    def render_gate(self) -> None:
        rec, pane = self.rec, self.pane
        if rec is None or pane is None or not self.live:
            return
        if self.in_settings:
            from sfwizard.recovery.navigator import Gate

            gate = Gate(False, f"settings: Esc goes back to {rec.navigator.current.title}", "settings")
            self.query_one(GateBar).show(gate, pane.busy)
            for button in ("#next", "#back", "#skip"):
                self.query_one(button, Button).disabled = True
            self.refresh_bindings()
            return
        gate = self.step_lock()
        self.query_one(GateBar).show(gate, pane.busy)
        self.query_one("#next", Button).disabled = not gate.open
        self.query_one("#back", Button).disabled = rec.navigator.previous_step is None
        self.query_one("#skip", Button).disabled = self.step == "report"
        self.refresh_bindings()

    # -- sizes ------------------------------------------------------------------------------------------------
    def on_resize(self, event: Any) -> None:
        self._fit(event.size.width, event.size.height)
        if self.rec is not None:
            self.render_frame()

    def _fit(self, width: int, height: int) -> None:
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        box = self.query_one("#too-small", Static)
        box.display = small
        if small:
            box.update(f"sfwizard needs at least {MIN_WIDTH}×{MIN_HEIGHT}; this terminal is {width}×{height}.\n"
                       "Make it larger to go on (nothing is lost). Ctrl+Q quits.")

    # -- keys: the pane's own while it is in view, wherever the focus is -----------------------------------------
    @property
    def _binding_chain(self) -> list[tuple[DOMNode, BindingsMap]]:
        chain = super()._binding_chain
        pane = self.pane
        if pane is not None and pane.ready and all(node is not pane for node, _ in chain):
            at = next((i for i, (node, _) in enumerate(chain) if node is self), len(chain))
            chain.insert(at, (pane, pane._bindings.copy()))
        return chain

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        rec, pane = self.rec, self.pane
        if action not in ("next", "back", "skip", "rerun", "confirm", "vendor", "stop", "explain", "settings",
                          "settings_anywhere"):
            return True
        if rec is None or pane is None or not pane.ready:
            return False
        if action in ("settings", "settings_anywhere"):  # one binding shown on steps 1-2, the other everywhere else
            first = self.step in ("before", "connect")
            return not self.in_settings and (first if action == "settings" else not first)
        if self.in_settings:
            return True if action == "stop" else False
        if action == "next":  # a watch (looking every few seconds) never holds Next; a job under way does
            busy = any(w.group != "watch" and w.state.name in ("PENDING", "RUNNING") for w in pane.workers)
            return True if rec.navigator.gate(self.step).open and not busy else None
        if action == "back":
            return True if rec.navigator.previous_step is not None else None
        if action == "skip":
            return self.step != "report"
        if action in ("rerun", "confirm", "vendor", "stop"):
            return pane.can(action)
        return True

    def action_next(self) -> None:
        rec = self.rec
        if rec is None:
            return
        gate = rec.navigator.gate(self.step)
        if not gate.open:
            self.notify(flat(gate.reason), title="Next is locked", severity="warning", markup=False)
            return
        if self.pane is not None and not self.pane.before_next():
            return
        self.go(rec.navigator.next().id)

    def action_back(self) -> None:
        rec = self.rec
        if rec is not None and rec.navigator.previous_step is not None:
            self.go(rec.navigator.back().id)

    def action_skip(self) -> None:
        rec = self.rec
        if rec is None:
            return
        step = rec.navigator.step(self.step)

        def done(answer: PersonAnswer | None) -> None:
            if answer is not None and rec.navigator.current_id == step.id:
                self.app.person = answer.who  # type: ignore[attr-defined]
                self.go(rec.navigator.skip(answer.text, answer.who).id)

        from .dialogs import SkipDialog

        self.app.open_dialog(SkipDialog(step.title, self.app.person), done)  # type: ignore[attr-defined]

    def action_rerun(self) -> None:
        if self.pane is not None:
            self.pane.rerun()

    def action_confirm(self) -> None:
        if self.pane is not None:
            self.pane.confirm()

    def action_vendor(self) -> None:
        if self.pane is not None and self.pane.can("vendor"):
            self.pane.vendor()

    def action_stop(self) -> None:
        if self.pane is not None and self.pane.workers_running():
            self.stop_asked = True
            self.pane.stop()
        elif self.in_settings:
            self.leave_settings()

    def action_page(self, direction: int) -> None:
        if self.pane is not None:
            (self.pane.scroll_page_down if direction > 0 else self.pane.scroll_page_up)(animate=False)

    def action_explain(self) -> None:
        """F1: why Next is locked, in full, and the runbook's words for this step."""
        rec = self.rec
        if rec is None:
            return
        step = rec.navigator.current_id if self.in_settings else self.step
        gate = rec.lock(step)
        parts = []
        if not gate.open:
            parts += ["Why Next is locked", flat(gate.reason)]
            r = rec.navigator.results.get(gate.check_id) if gate.check_id else None
            if r is not None and r.resolution and gate.code in ("check.failed", "check.warned"):
                parts += [f"What to do: {flat(r.resolution)}"]
            parts.append("")
        actors = rec.profile.actors_of(step)
        if actors:
            from .widgets import actor_label

            parts += ["Who does what"] + [f"  {actor_label(a, rec.profile.vendor)}: {flat(w)}"
                                          for a, w in actors.items()] + [""]
        click = rec.pending_click(step) if rec.vendor is not None else None
        if click and rec.demo is not None:
            parts += ["In this demo", f"  v does it: {flat(click)}", f"  or do it yourself on the vendors' stand-in "
                      f"pages: {rec.demo.admin_url}", ""]
        text = (rec.profile.runbook or {}).get(step, "")
        if text:
            parts += ["The runbook", text]
        from .dialogs import TextDialog

        self.app.push_screen(TextDialog(f"Runbook · {rec.navigator.step(step).title}",
                                        "\n".join(parts) or "Nothing more to say about this step."))

    @on(Button.Pressed, "#next")
    def _next_pressed(self) -> None:
        self.action_next()

    @on(Button.Pressed, "#back")
    def _back_pressed(self) -> None:
        self.action_back()

    @on(Button.Pressed, "#skip")
    def _skip_pressed(self) -> None:
        self.action_skip()

    def on_click(self, event: Any) -> None:
        if getattr(event.widget, "id", None) == "gate" and self.query_one(GateBar).reason:
            self.action_explain()

    @on(OptionList.OptionSelected, "#steps")
    def _step_chosen(self, event: OptionList.OptionSelected) -> None:
        target = event.option.id
        if target is not None and target != self.step:
            self.go_to(target)

    # -- a person confirms ---------------------------------------------------------------------------------
    def ask_confirmation(self, item: str, question: str, role: str = "platform_admin") -> None:
        rec = self.rec
        assert rec is not None
        step = self.step

        def done(answer: PersonAnswer | None) -> None:
            if answer is None:
                return
            self.app.person = answer.who  # type: ignore[attr-defined]
            rec.navigator.confirm(item, answer.who, answer.role)
            pane = self._panes.get(step)
            if pane is not None:
                pane.after_confirm(item)
            rec.notify()

        from .dialogs import ConfirmDialog

        self.app.open_dialog(ConfirmDialog(question, rec.profile.vendor, self.app.person, role),  # type: ignore
                             done)

