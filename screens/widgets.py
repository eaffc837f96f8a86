"""Widgets every step shares: the header with the org badge, the step list, the check table, who acts,
and the bar that says whether Next is open. Server-provided text is always shown as text, never markup."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

if TYPE_CHECKING:
    from sfwizard.checks.base import CheckResult
    from sfwizard.recovery.navigator import Gate, Navigator
    from sfwizard.recovery.wizard import Recovery

ICONS = {"pass": "✔", "fail": "✘", "warn": "!", "manual": "?", "skipped": "–", "running": "…", "waiting": "·"}
WORDS = {"pass": "pass", "fail": "FAIL", "warn": "warn", "manual": "ask", "skipped": "skip", "running": "…"}
# ANSI colour names: each theme maps them to its own palette (and NO_COLOR drops them; the words stay).
STATUS_STYLE = {"pass": "green", "fail": "bold red", "warn": "yellow", "manual": "cyan", "skipped": "dim",
                "running": "dim", "waiting": "dim"}
SHORT_TITLES = {"before": "Before", "connect": "Connect", "mappings": "Mappings", "reauthorize": "Re-authorize",
                "sync": "Sync", "checklist": "Checklist"}  # the step list at 80 columns
STATE_ICONS = {"done": "✔", "current": "▶", "skipped": "–", "pending": " "}
ACTOR_LABELS = {"platform_admin": "{vendor} admin", "salesforce_admin": "Salesforce admin", "wizard": "sfwizard"}


def flat(value: Any) -> str:
    """One line of text: control characters and newlines folded (server text, org names, errors)."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in str(value)).split())


def plain(value: Any, style: str = "") -> Text:
    """A renderable that never interprets markup (what DataTable cells and Static need for server text)."""
    return Text(flat(value), style=style)


def actor_label(actor: str, vendor: str) -> str:
    return ACTOR_LABELS.get(actor, actor).format(vendor=vendor)


class AppHeader(Horizontal):
    """Title, a DEMO badge, and — once signed in — the org, the user and PRODUCTION or SANDBOX."""

    DEFAULT_CLASSES = "app-header"

    def compose(self) -> Any:
        yield Static("sfwizard", id="hdr-title", markup=False)
        yield Static("", id="hdr-demo", markup=False)
        yield Static("", id="hdr-org", markup=False)
        yield Static("", id="hdr-kind", markup=False)

    def show(self, recovery: Recovery | None) -> None:
        title = "sfwizard"
        demo = kind = org = ""
        if recovery is not None:
            title = f"sfwizard · {recovery.profile.vendor} recovery"
            if recovery.demo is not None:
                demo = f" DEMO {recovery.demo.scenario} "
            who = recovery.signed_in
            if who is not None:
                org = f"{flat(who.org_name)} ({who.org_id}) · {flat(who.username)}"
                kind = f" {who.kind} "
            else:
                org = "not signed in to Salesforce"
        self.query_one("#hdr-title", Static).update(title)
        badge = self.query_one("#hdr-demo", Static)
        badge.update(demo)
        badge.display = bool(demo)
        self.query_one("#hdr-org", Static).update(org)
        k = self.query_one("#hdr-kind", Static)
        k.update(kind)
        k.display = bool(kind)
        k.set_class(kind.strip() == "SANDBOX", "-sandbox")
        k.set_class(kind.strip() == "PRODUCTION", "-production")


class StepList(OptionList):
    """Where you are and what is done; a click (or Enter) goes back to a step already reached."""

    DEFAULT_CLASSES = "step-list"

    _shown: tuple[Any, ...] | None = None

    def show(self, nav: Navigator | None) -> None:
        rows = [] if nav is None else [
            (step.id, nav.state(step).value, nav.applies(step), nav.can_go_to(step.id),
             SHORT_TITLES.get(step.id, step.title) if self.app.size.width < 100 else step.title)
            for step in nav.steps]
        if tuple(rows) == self._shown:  # unchanged: rebuilding the options costs a frame's worth of styling
            return
        self._shown = tuple(rows)
        highlighted = None
        self.clear_options()
        for i, (step_id, state, applies, reachable, title) in enumerate(rows):
            label = Text(f"{STATE_ICONS[state]} {i + 1:>2} {title}")
            if state == "current":
                label.stylize("bold")
                highlighted = i
            elif state == "skipped" or not applies:
                label.stylize("dim")
            self.add_option(Option(label, id=step_id, disabled=not reachable))
        if highlighted is not None:
            self.highlighted = highlighted


class ActorPanel(Vertical):
    """Who acts at this step: the platform admin, the Salesforce admin, or sfwizard itself."""

    DEFAULT_CLASSES = "actors"

    _shown: tuple[Any, ...] | None = None

    def show(self, actors: dict[str, str], vendor: str) -> None:
        if (tuple(actors.items()), vendor) == self._shown:  # the same people: nothing to mount again
            return
        self._shown = (tuple(actors.items()), vendor)
        self.remove_children()
        for actor, what in actors.items():
            row = Horizontal(classes=f"actor -{actor.replace('_', '-')}")
            self.mount(row)
            row.mount(Static(actor_label(actor, vendor), classes="who", markup=False))
            row.mount(Static(flat(what), classes="what", markup=False))


class GateBar(Static):
    """Whether Next is open and, when it is not, exactly why."""

    DEFAULT_CLASSES = "gate"

    def show(self, gate: Gate | None, busy: str = "") -> None:
        self.set_class(gate is not None and gate.open, "-open")
        self.set_class(gate is not None and not gate.open, "-shut")
        if busy:
            text = Content.assemble(("… ", "bold"), flat(busy), "  (Esc stops)")
        elif gate is None:
            text = Content("setting up…")
        elif gate.open:
            text = Content.assemble(("Next ▶ ", "bold"), "ready")
        else:
            text = Content.assemble(("Next is locked: ", "bold"), flat(gate.reason),
                                    "  — fix it, or skip the step with a reason (s)")
        self.update(text)


class FitTable(DataTable):
    """A table whose text columns share the width it has (no sideways scrolling at 80 columns); a row's
    whole text is one Enter away. ``FLEX`` says which columns stretch, and their shares."""

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
        rest = max(10 * len(flex), width - fixed - padding - 1)
        shares = sum(flex.values())
        for k, share in flex.items():
            col = self.columns[k]
            col.width = max(8, rest * share // shares)
            col.auto_width = False
        self.refresh()


class CheckTable(FitTable):
    """One row per check: status, title, what it found. Enter (or a click) opens the evidence."""

    DEFAULT_CLASSES = "checks"
    FLEX = {"title": 2, "summary": 3}

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = False
        if not self.columns:
            self.add_column("", key="icon", width=1)
            self.add_column("status", key="status", width=6)
            self.add_column("check", key="title", width=28)
            self.add_column("what it found", key="summary", width=30)

    def set_pending(self, ids_titles: list[tuple[str, str]]) -> None:
        for cid, title in ids_titles:
            self.put(cid, title, "running", "checking…")

    def put_result(self, r: CheckResult) -> None:
        self.put(r.id, r.title, r.status.value, r.summary)

    def put(self, cid: str, title: str, status: str, summary: str) -> None:
        style = STATUS_STYLE.get(status, "")
        icon = plain(ICONS.get(status, "?"), style)
        word = plain(WORDS.get(status, status), style)
        cells = (icon, word, plain(title), plain(summary))
        if cid in self.rows:
            for key, value in zip(("icon", "status", "title", "summary"), cells, strict=True):
                self.update_cell(cid, key, value, update_width=False)
        else:
            self.add_row(*cells, key=cid)

    def selected_id(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
        except Exception:  # noqa: BLE001 - an empty or refreshing table
            return None
