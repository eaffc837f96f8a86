"""Widgets the frame and the panes share: the header with the org badge, the step list, who acts, the check table,
the bar that says whether Next is open, wrapped text that keeps its indent, and the key bar. Server-provided text
is always shown as text, never markup, and never with a control character in it."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Text
from textual import events
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import DataTable, Input, OptionList, Static
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from sfwizard.checks.base import CheckResult
    from sfwizard.recovery.navigator import Gate, Navigator
    from sfwizard.recovery.wizard import Recovery

ICONS = {"pass": "✔", "fail": "✘", "warn": "!", "manual": "?", "skipped": "–", "running": "…", "waiting": "·",
         "pending": "◷", "confirmed": "✔"}
WORDS = {"pass": "pass", "fail": "FAIL", "warn": "warn", "manual": "ask", "skipped": "skip", "running": "…",
         "waiting": "—", "pending": "wait", "confirmed": "done"}
# ANSI colour names: each theme maps them to its own palette (and NO_COLOR drops them; the words stay).
STATUS_STYLE = {"pass": "green", "fail": "bold red", "warn": "yellow", "manual": "cyan", "skipped": "dim",
                "running": "dim", "waiting": "dim", "pending": "yellow", "confirmed": "green"}
SHORT_TITLES = {"before": "Before", "connect": "Connect", "mappings": "Mappings", "reauthorize": "Re-authorize",
                "sync": "Sync", "checklist": "Checklist", "security": "Security"}  # the step list at 80 columns
STATE_ICONS = {"done": "✔", "current": "▶", "skipped": "–", "pending": " "}
ACTOR_LABELS = {"platform_admin": "{vendor} admin", "salesforce_admin": "Salesforce admin", "wizard": "sfwizard"}


def flat(value: Any) -> str:
    """One line of text: newlines and tabs folded to spaces, every other control character written as a visible
    escape (``inert``: server text, org names and errors never act on a terminal)."""
    from sfwizard.inert import inert

    text = str(value).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return " ".join(inert(text, keep_newlines=False).split())


def plain(value: Any, style: str = "") -> Text:
    """A one-line cell that never interprets markup and ends in … where it is cut."""
    return Text(flat(value), style=style, no_wrap=True, overflow="ellipsis", end="")


def shorten(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, cut with an ellipsis."""
    text = flat(text)
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def say(widget: Static, content: Any) -> None:
    """``Static.update``, skipped when the words are the same: an update re-lays the whole screen out even then,
    and a pane redraws from state on every return."""
    if widget.content != content:
        widget.update(content)


def actor_label(actor: str, vendor: str) -> str:
    return ACTOR_LABELS.get(actor, actor).format(vendor=vendor)


class AppHeader(Static):
    """Title, a DEMO badge, and — once signed in — the org, the user and PRODUCTION or SANDBOX, fitted to the width:
    the kind badge and the org's name are the last to shrink (nobody should re-authorize the wrong org)."""

    DEFAULT_CLASSES = "app-header"

    def __init__(self, **kw: Any) -> None:
        super().__init__("", markup=False, **kw)
        self._parts: tuple[str, str, str, str, str, str] = ("sfwizard", "", "", "", "", "")
        self._window: tuple[str, str] = ("", "")  # Skilljar's Backfill window: (what is left, level)

    def show(self, recovery: Recovery | None) -> None:
        title, demo, org, org_id, user, kind = "sfwizard", "", "", "", "", ""
        if recovery is not None:
            title = f"sfwizard · {recovery.profile.vendor} recovery"
            if recovery.demo_scenario:
                demo = f"DEMO {recovery.demo_scenario}"
            who = recovery.signed_in
            if who is not None:
                org, org_id, user, kind = flat(who.org_name), who.org_id, flat(who.username), who.kind
            else:
                org = "not signed in to Salesforce"
        parts = (title, demo, org, org_id, user, kind)
        window = ("", "")
        if recovery is not None:
            w = recovery.backfill_window()
            if w is not None:
                window = (("Backfill " + w.left_words()) if not w.passed else "Backfill window passed", w.level)
        if parts != self._parts or window != self._window:
            self._parts, self._window = parts, window
            self.refresh(layout=False)

    @property
    def org_text(self) -> str:
        """What the header says of the org (tests and the stateful walk read it)."""
        return " ".join(p for p in self._parts[2:] if p)

    def render(self) -> Content:
        width = self.size.width or 80
        title, demo, org, org_id, user, kind = self._parts
        badge = f" {kind} " if kind else ""
        window, level = self._window
        window_badge = f" {window} " if window else ""
        demo_badge = f" {demo} " if demo else ""
        # Fit from the least to the most important: the user, the org Id, the title, the DEMO badge, the org name.
        room = width - 3 - len(badge) - (len(window_badge) + 1 if window_badge else 0)
        extras = [f" · {user}" if user else "", f" ({org_id})" if org_id else ""]
        title_text = title
        while True:
            right = org + "".join(extras)
            need = len(title_text) + 1 + len(demo_badge) + 1 + len(right)
            if need <= room:
                break
            if extras and extras[0]:
                extras[0] = ""
                continue
            if len(extras) > 1 and extras[1]:
                extras[1] = ""
                continue
            if title_text != "sfwizard":
                title_text = "sfwizard"
                continue
            if demo_badge and len(demo_badge) > 6:
                demo_badge = " DEMO "
                continue
            org = shorten(org, max(8, room - len(title_text) - len(demo_badge) - 2))
            right = org
            break
        pad = max(1, room - len(title_text) - len(demo_badge) - len(right))
        pieces: list[Any] = [(" " + title_text, "bold")]
        if demo_badge:
            pieces += [" ", (demo_badge, "bold reverse")]
        pieces += [" " * pad, (right, "")]
        if window_badge:  # the 21-day cliff: amber under 3 days, red under 1
            style = {"ok": "bold reverse green", "amber": "bold reverse yellow"}.get(level, "bold reverse red")
            pieces += [" ", (window_badge, style)]
        if badge:
            pieces += [" ", (badge, "bold reverse red" if kind == "PRODUCTION" else "bold reverse yellow")]
        return Content.assemble(*pieces)


class StepList(OptionList):
    """Where you are and what is done; a click (or Enter) goes back to a step already reached."""

    DEFAULT_CLASSES = "step-list"

    _shown: tuple[Any, ...] | None = None

    def show(self, nav: Navigator | None, current: str | None = None) -> None:
        narrow = self.app.size.width < 100
        rows = [] if nav is None else [
            (step.id, "current" if step.id == current else nav.state(step).value.replace("current", "pending"),
             nav.applies(step), nav.can_go_to(step.id), SHORT_TITLES.get(step.id, step.title) if narrow
             else step.title)
            for step in nav.steps]
        if tuple(rows) == self._shown:  # unchanged: rebuilding the options costs a frame's worth of styling
            return
        self._shown = tuple(rows)
        highlighted = None
        self.clear_options()
        for i, (step_id, state, applies, reachable, title) in enumerate(rows):
            label = Text(f"{STATE_ICONS.get(state, ' ')} {i + 1:>2} {title}", no_wrap=True, overflow="ellipsis")
            if state == "current":
                label.stylize("bold")
                highlighted = i
            elif state == "skipped" or not applies:
                label.stylize("dim")
            self.add_option(Option(label, id=step_id, disabled=not reachable))
        if highlighted is not None:
            self.highlighted = highlighted


class ActorPanel(Vertical):
    """Who acts at this step: the platform admin, the Salesforce admin, or sfwizard itself. One row per actor is
    built once and shown or hidden (mounting rows anew on each step switch drew the screen a second time)."""

    DEFAULT_CLASSES = "actors"

    _shown: tuple[Any, ...] | None = None

    def compose(self) -> Any:
        from sfwizard.profiles import ACTORS

        for actor in ACTORS:
            with Horizontal(classes=f"actor -{actor.replace('_', '-')}", id=f"actor-{actor}") as row:
                row.display = False
                yield Static("", classes="who", markup=False)
                yield Static("", classes="what", markup=False)

    def show(self, actors: dict[str, str], vendor: str) -> None:
        if (tuple(actors.items()), vendor) == self._shown:  # the same people: nothing to draw again
            return
        self._shown = (tuple(actors.items()), vendor)
        for row in self.query(".actor").results(Horizontal):
            actor = (row.id or "").removeprefix("actor-")
            row.display = actor in actors
            if actor in actors:
                who, what = row.query(Static)
                say(who, actor_label(actor, vendor))
                say(what, flat(actors[actor]))


class GateBar(Static):
    """Whether Next is open and, when it is not, why — in at most two lines (the whole reason on F1 or a click)."""

    DEFAULT_CLASSES = "gate"

    def __init__(self, **kw: Any) -> None:
        super().__init__("", **kw)
        self.reason = ""  # the whole reason, for the dialog

    _shown: tuple[Any, ...] | None = None

    def show(self, gate: Gate | None, busy: str = "") -> None:
        shown = (None if gate is None else (gate.open, gate.code, gate.reason), busy)
        if shown == self._shown:  # the same gate: restyling and redrawing it would cost a frame for nothing
            return
        self._shown = shown
        self.set_class(gate is not None and gate.open and not busy, "-open")
        self.set_class(gate is not None and not gate.open and not busy, "-shut")
        self.set_class(bool(busy), "-busy")
        self.reason = "" if gate is None or gate.open else flat(gate.reason)
        if busy:
            text = Content.assemble(("… ", "bold"), flat(busy), ("  Esc stops", "dim"))
        elif gate is None:
            text = Content("setting up…")
        elif gate.open:
            text = Content.assemble(("Next ▶ ", "bold"), "ready")
        elif gate.code == "settings":
            text = Content.assemble(("Settings ", "bold"), ("· ", "dim"), self.reason.removeprefix("settings: "))
        elif gate.code == "action.pending":
            words = self.reason.removeprefix("waiting for ")
            text = Content.assemble(("Waiting for ", "bold"), words)
        else:
            text = Content.assemble(("Next is locked ", "bold"), ("(F1 why · s skip): ", "dim"), self.reason)
        self.update(text)


class Indented(Widget):
    """Lines that wrap under their own text, not at column 0: ``(first, rest, text)`` — the prefix of the first
    line and of the lines it wraps onto (a bullet and its indent)."""

    DEFAULT_CSS = "Indented { height: auto; }"

    def __init__(self, lines: Sequence[tuple[str, str, str]] = (), **kw: Any) -> None:
        super().__init__(**kw)
        self._lines: list[tuple[str, str, str]] = list(lines)

    def show(self, lines: Iterable[tuple[str, str, str] | str]) -> None:
        new = [(x, "", "") if isinstance(x, str) else x for x in lines]
        new = [(a, b, c) if c or b else ("", "", a) for a, b, c in new]
        if new != self._lines:
            self._lines = new
            self.refresh(layout=True)

    @property
    def text(self) -> str:
        return "\n".join(first + flat(t) for first, _rest, t in self._lines)

    def _wrapped(self, width: int) -> list[str]:
        out: list[str] = []
        for first, rest, text in self._lines:
            if not text:
                out.append(first.rstrip())
                continue
            out += textwrap.wrap(flat(text), width=max(10, width), initial_indent=first, subsequent_indent=rest,
                                 break_long_words=True, break_on_hyphens=False) or [first]
        return out

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._wrapped(width))

    def render(self) -> Text:
        return Text("\n".join(self._wrapped(self.content_region.width or self.size.width)), end="")


class TextField(Input):
    """A text field that takes a fast burst of keys in the order they were typed. Textual acts on a key bound to an
    action (Backspace, Ctrl+U, Enter) only once it has gone up to the app, after the letters typed behind it are
    already in the field: "clear, retype, Enter" typed fast would clear the retyped text and submit a stale one.
    Here the editing keys act as they arrive, like the letters; Enter submits what is in the field at that moment."""

    EDITING = {"backspace": "delete_left", "ctrl+h": "delete_left", "delete": "delete_right",
               "ctrl+u": "delete_left_all", "ctrl+w": "delete_left_word", "ctrl+k": "delete_right_all",
               "left": "cursor_left", "right": "cursor_right", "home": "home", "end": "end",
               "ctrl+a": "home", "ctrl+e": "end"}

    async def _on_key(self, event: events.Key) -> None:
        action = self.EDITING.get(event.key)
        if action is not None:
            event.stop()
            event.prevent_default()
            getattr(self, f"action_{action}")()
        elif event.key == "enter":
            event.stop()
            event.prevent_default()
            self.submitted()

    def submitted(self) -> None:
        self.post_message(Input.Submitted(self, self.value))


class FitTable(DataTable):
    """A table whose text columns share the width it has (no sideways scrolling at 80 columns), cut with an
    ellipsis; the highlighted row's whole text shows below it (``detail``). ``FLEX`` says which columns stretch."""

    FLEX: dict[str, int] = {}

    def on_resize(self) -> None:
        self.fit()

    def fit(self) -> None:
        width = self.size.width
        flex = {k: v for k, v in self.FLEX.items() if k in self.columns}
        if width <= 0 or not flex:
            return
        fixed = sum(c.width for k, c in self.columns.items() if k not in flex)
        padding = 2 * self.cell_padding * len(self.columns)
        rest = max(8 * len(flex), width - fixed - padding - 1)
        shares = sum(flex.values())
        widths = {k: max(6, rest * share // shares) for k, share in flex.items()}
        if all(self.columns[k].width == w and not self.columns[k].auto_width for k, w in widths.items()):
            return  # shown again at the same size: a second layout pass would draw the screen twice
        for k, w in widths.items():
            col = self.columns[k]
            col.width = w
            col.auto_width = False
        self._require_update_dimensions = True
        self.refresh()


class CheckTable(FitTable):
    """One row per check: status, what it found, the check. Enter (or a click) opens the evidence."""

    DEFAULT_CLASSES = "checks"
    FLEX = {"summary": 3, "title": 1}

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = False
        if not self.columns:
            self.add_column("", key="icon", width=1)
            self.add_column("status", key="status", width=6)
            self.add_column("what it found", key="summary", width=30)
            self.add_column("check", key="title", width=16)

    def show(self, rows: Sequence[tuple[str, str, str, str]]) -> None:
        """``(id, title, status, summary)`` for every check of the step, in order; only what changed is redrawn."""
        wanted = [cid for cid, *_ in rows]
        if [str(k.value) for k in self.rows] != wanted:
            keep = self.cursor_row
            self.clear()
            for cid, title, status, summary in rows:
                self.add_row(*self._cells(title, status, summary), key=cid)
            if self.row_count:
                self.move_cursor(row=min(max(keep, 0), self.row_count - 1), animate=False)
            return
        for cid, title, status, summary in rows:
            for key, value in zip(("icon", "status", "summary", "title"), self._cells(title, status, summary),
                                  strict=True):
                if self.get_cell(cid, key) != value:
                    self.update_cell(cid, key, value, update_width=False)

    @staticmethod
    def _cells(title: str, status: str, summary: str) -> tuple[Text, Text, Text, Text]:
        style = STATUS_STYLE.get(status, "")
        return (plain(ICONS.get(status, "?"), style), plain(WORDS.get(status, status), style), plain(summary),
                plain(title, "dim"))

    def selected_id(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
        except Exception:  # noqa: BLE001 - an empty or refreshing table
            return None


def result_row(r: CheckResult, shown: str) -> tuple[str, str, str, str]:
    return (r.id, r.title, shown, r.summary)


@dataclass(frozen=True)
class _Key:
    key: str  # what a click simulates
    shown: str  # "n", "^q", "esc"
    description: str
    enabled: bool
    right: bool  # Quit and the palette stay at the right edge


class KeyBar(Widget):
    """The keys of the pane in view and the frame's, on one line drawn as one piece of text. (Textual's Footer
    rebuilds a widget per key whenever the focus or a binding moves — ~8 times a step switch, most of its cost.)
    This one redraws only when the keys shown change. Quit and the palette key keep the right edge; at 80 columns
    the keys that do not fit end in "…" (F1 lists them all). A key can be clicked."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"keybar--key", "keybar--description"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .keybar--key { color: $footer-key-foreground; background: $footer-key-background; text-style: bold; }
        .keybar--description { color: $footer-description-foreground; background: $footer-description-background; }
    }
    """
    RIGHT_ACTIONS = ("app.quit_wizard", "quit_wizard", "app.command_palette", "command_palette")

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self._keys: tuple[_Key, ...] = ()
        self._spans: list[tuple[int, int, _Key]] = []  # (from x, to x, key): where each key was drawn

    @property
    def keys(self) -> tuple[_Key, ...]:
        return self._keys

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Any) -> None:
        if not self.is_attached or screen is not self.screen:
            return
        seen: set[str] = set()
        keys: list[_Key] = []
        for _node, binding, enabled, _tooltip in screen.active_bindings.values():
            if not binding.show or binding.action in seen:
                continue  # one entry per action, as the Footer shows it
            seen.add(binding.action)
            keys.append(_Key(binding.key, self.app.get_key_display(binding), binding.description, enabled,
                             binding.action in self.RIGHT_ACTIONS))
        palette = screen.active_bindings.get(self.app.COMMAND_PALETTE_BINDING) if self.app.ENABLE_COMMAND_PALETTE \
            else None
        if palette is not None and palette[1].action not in seen:  # shown even when not listed, as Footer does
            keys.insert(0, _Key(palette[1].key, self.app.get_key_display(palette[1]), "", palette[2], True))
        new = tuple(k for k in keys if not k.right) + tuple(k for k in keys if k.right)
        if new != self._keys:
            self._keys = new
            self.refresh()

    def _piece(self, k: _Key, key_style: Style, text_style: Style) -> Text:
        dim = Style(dim=not k.enabled)
        return Text.assemble((f" {k.shown} ", key_style + dim), (f"{k.description} " if k.description else "",
                                                                   text_style + dim))

    def render(self) -> Text:
        width = self.size.width
        key_style = self.get_component_rich_style("keybar--key")
        text_style = self.get_component_rich_style("keybar--description")
        left = [k for k in self._keys if not k.right]
        right = [self._piece(k, key_style, text_style) for k in self._keys if k.right]
        right_width = sum(p.cell_len for p in right)
        out = Text(no_wrap=True, overflow="crop")
        spans: list[tuple[int, int, _Key]] = []
        x = 0
        for n, k in enumerate(left):
            piece = self._piece(k, key_style, text_style)
            room = width - right_width - x - (0 if n == len(left) - 1 else 1)
            if piece.cell_len > room:
                out.append("…", text_style)
                x += 1
                break
            spans.append((x, x + piece.cell_len, k))
            out.append_text(piece)
            x += piece.cell_len
        gap = max(0, width - right_width - x)
        out.append(" " * gap)
        x += gap
        for k, piece in zip([k for k in self._keys if k.right], right, strict=True):
            spans.append((x, x + piece.cell_len, k))
            out.append_text(piece)
            x += piece.cell_len
        self._spans = spans
        return out

    def on_click(self, event: events.Click) -> None:
        for start, end, k in self._spans:
            if start <= event.x < end:
                if k.enabled:
                    self.app.simulate_key(k.key)
                else:
                    self.app.bell()
                return


__all__ = ["AppHeader", "CheckTable", "FitTable", "GateBar", "Indented", "KeyBar", "StepList", "say"]
