"""Step 10 · The final checklist: the runbook's own verification items, each proven by the checks behind it
and marked pass, fail, or confirmed by whom and when — what only a person can see, a person confirms (c)."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from .pane import StepPane
from .widgets import FitTable, flat, plain, say

MARK_ICON = {"pass": "✔", "confirmed": "✔", "fail": "✘", "waiting": "·", "n/a": "–"}
MARK_STYLE = {"pass": "green", "confirmed": "green", "fail": "bold red", "waiting": "yellow", "n/a": "dim"}


class ChecklistTable(FitTable):
    FLEX = {"item": 3, "how": 2}


def how_known(it: Any) -> str:
    """The short form for the table; Enter shows the whole of it."""
    mark = it.mark.value
    if mark == "pass":
        n = len(it.checks)
        return f"proven by {n} check{'s' if n != 1 else ''}" + (" (with a caveat)" if it.caveats else "")
    if mark == "confirmed" and it.confirmed_by:
        return f"confirmed by {flat(it.confirmed_by.get('who', '?'))}"
    if mark == "n/a":
        return "not used here"
    if mark == "waiting" and (it.item.confirm or not it.checks):
        return "c: confirm you saw it"
    return it.why


class Step(StepPane):
    STEP = "checklist"
    SHOWS_CHECKS = False

    def compose_body(self) -> ComposeResult:
        yield Static("", id="summary", classes="card", markup=False)
        yield ChecklistTable(id="items", cursor_type="row")
        yield Static("", id="item-detail", classes="detail", markup=False)
        yield Static("c confirms the selected item as a person · Enter shows what proves it · r re-checks",
                     classes="note")

    def on_mount(self) -> None:
        table = self.query_one("#items", DataTable)
        table.add_column("", key="mark", width=1)
        table.add_column("item", key="item", width=30)
        table.add_column("how it is known", key="how", width=20)

    def missing(self) -> list[str]:
        rec = self.rec
        return [c for c in self._ids() if c not in rec.navigator.results]

    def _ids(self) -> list[str]:
        return sorted({c for it in self.rec.profile.checklist for c in it.proven_by})

    def start(self) -> None:
        self.run_checks(self._ids())  # the items are proven afresh each time the checklist is shown

    def rerun(self) -> None:
        self.run_checks(self._ids())

    def state_moved(self, dropped: set[str]) -> None:
        if dropped & set(self._ids()):
            self._stale = True
        self.render_state()
        self._rerun_stale()

    def render_state(self) -> None:
        rec = self.rec
        items = rec.checklist()
        table = self.query_one("#items", DataTable)
        keep = table.cursor_row
        table.clear()
        group = None
        for i, it in enumerate(items):
            if it.item.group != group:
                group = it.item.group
                table.add_row(plain(""), plain(group, "bold"), plain(""), key=f"g-{i}")
            mark = "waiting" if set(it.checks) & self.running else it.mark.value
            table.add_row(plain(MARK_ICON.get(mark, "?"), MARK_STYLE.get(mark, "")), plain(it.item.item),
                          plain("checking…" if set(it.checks) & self.running else how_known(it),
                                MARK_STYLE.get(mark, "") if mark != "pass" else ""), key=f"i-{i}")
        if table.row_count:
            table.move_cursor(row=min(max(keep, 0), table.row_count - 1), animate=False)
        done = sum(1 for it in items if it.done)
        failing = sum(1 for it in items if it.mark.value == "fail")
        summary = self.query_one("#summary", Static)
        say(summary, f"{done} of {len(items)} items done" + (f" · {failing} failing" if failing else "")
                       + (" — the recovery is verified." if done == len(items) and items else ""))
        summary.set_class(done == len(items) and bool(items), "-good")
        summary.set_class(failing > 0, "-bad")
        self._item_detail()
        super().render_state()

    def selected(self) -> Any:
        table = self.query_one("#items", DataTable)
        if table.row_count == 0:
            return None
        key = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        if not key.startswith("i-"):
            return None
        return self.rec.checklist()[int(key[2:])]

    def confirmable(self) -> Any:
        it = self.selected()
        if it is not None and it.mark.value == "waiting" and (it.item.confirm or not it.checks):
            return it
        return None

    def confirm(self) -> None:
        it = self.confirmable()
        if it is not None:
            self.frame.ask_confirmation(it.key, f"{it.item.item} — confirm you saw this yourself.")

    @on(DataTable.RowHighlighted, "#items")
    def _moved(self) -> None:
        self._item_detail()
        self.frame.refresh_bindings()

    def _item_detail(self) -> None:
        it = self.selected()
        detail = self.query_one("#item-detail", Static)
        detail.display = it is not None
        if it is not None:
            say(detail, f"{it.item.item}\n{it.mark.value}: {flat(it.why)}")

    @on(DataTable.RowSelected, "#items")
    def _why(self) -> None:
        it = self.selected()
        if it is None:
            return
        rec = self.rec
        from .dialogs import TextDialog, evidence_text

        parts = [f"{it.item.item}", f"{it.mark.value}: {flat(it.why)}"]
        parts += [f"caveat: {flat(c)}" for c in it.caveats]
        for cid in it.checks:
            r = rec.navigator.results.get(cid)
            if r is not None:
                parts += ["", evidence_text(r)]
        self.app.push_screen(TextDialog("What proves it", "\n".join(parts)))
