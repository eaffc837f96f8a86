"""Step 10 · The final checklist: the runbook's own verification items, each proven by the checks behind it
and marked pass, fail, or confirmed by whom and when — what only a person can see, a person confirms (c)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from .base import StepScreen
from .widgets import FitTable, flat, plain

MARK_ICON = {"pass": "✔", "confirmed": "✔", "fail": "✘", "waiting": "·", "n/a": "–"}
MARK_STYLE = {"pass": "green", "confirmed": "green", "fail": "bold red", "waiting": "yellow", "n/a": "dim"}


class ChecklistTable(FitTable):
    FLEX = {"item": 3, "how": 2}


def _how(it) -> str:  # noqa: ANN001 - an ItemOutcome
    """The short form for the table; Enter shows the whole of it."""
    mark = it.mark.value
    if mark == "pass":
        n = len(it.checks)
        return f"proven by {n} check{'s' if n != 1 else ''}" + (" (with a caveat)" if it.caveats else "")
    if mark == "confirmed" and it.confirmed_by:
        return f"confirmed by {flat(it.confirmed_by.get('who', '?'))}"
    if mark == "n/a":
        return "not used here"
    return it.why


class Step(StepScreen):
    STEP = "checklist"
    SHOWS_CHECKS = False

    def compose_body(self) -> ComposeResult:
        yield Static("", id="summary", classes="card", markup=False)
        yield ChecklistTable(id="items", cursor_type="row")
        yield Static("c confirms the selected item as a person · Enter shows what proves it · r re-checks",
                     classes="note")

    def on_mount(self) -> None:
        table = self.query_one("#items", DataTable)
        table.add_column("", key="mark", width=1)
        table.add_column("item", key="item", width=30)
        table.add_column("how it is known", key="how", width=20)
        super().on_mount()

    def on_enter(self) -> None:
        self.action_rerun()

    def action_rerun(self) -> None:
        rec = self.recovery
        if rec is None:
            return
        ids = sorted({c for it in rec.profile.checklist for c in it.proven_by})
        self.run_checks(ids)

    def after_results(self, results: list) -> None:  # noqa: ANN001
        self.refresh_frame()

    def refresh_frame(self) -> None:
        rec = self.recovery
        if rec is not None:
            items = rec.checklist()
            table = self.query_one("#items", DataTable)
            keep = table.cursor_row
            table.clear()
            group = None
            for i, it in enumerate(items):
                if it.item.group != group:
                    group = it.item.group
                    table.add_row(plain(""), plain(group, "bold"), plain(""), key=f"g-{i}")
                mark = it.mark.value
                table.add_row(plain(MARK_ICON.get(mark, "?"), MARK_STYLE.get(mark, "")), plain(it.item.item),
                              plain(_how(it), MARK_STYLE.get(mark, "") if mark != "pass" else ""), key=f"i-{i}")
            if table.row_count:
                table.move_cursor(row=min(keep, table.row_count - 1))
            done = sum(1 for it in items if it.done)
            failing = sum(1 for it in items if it.mark.value == "fail")
            summary = self.query_one("#summary", Static)
            summary.update(f"{done} of {len(items)} items done" + (f" · {failing} failing" if failing else "")
                           + (" — the recovery is verified." if done == len(items) and items else ""))
            summary.set_class(done == len(items) and bool(items), "-good")
            summary.set_class(failing > 0, "-bad")
            if items and done == len(items) and not rec.navigator.has_fact("checklist_reviewed"):
                rec.navigator.note_fact("checklist_reviewed", "every item proven or confirmed")
        super().refresh_frame()

    def _selected(self):  # noqa: ANN202
        rec = self.recovery
        table = self.query_one("#items", DataTable)
        if rec is None or table.row_count == 0:
            return None
        key = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        if not key.startswith("i-"):
            return None
        return rec.checklist()[int(key[2:])]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm":
            it = self._selected() if self.is_mounted else None
            return it is not None and it.mark.value == "waiting" and (it.item.confirm or not it.checks)
        return super().check_action(action, parameters)

    def action_confirm(self) -> None:
        it = self._selected()
        if it is None or it.mark.value != "waiting":
            return
        self.ask_confirmation(it.key, f"{it.item.item} — confirm you saw this yourself.")

    def after_confirm(self, item: str) -> None:
        self.refresh_frame()

    @on(DataTable.RowHighlighted, "#items")
    def _moved(self) -> None:
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#items")
    def _why(self) -> None:
        it = self._selected()
        rec = self.recovery
        if it is None or rec is None:
            return
        from .dialogs import TextDialog, evidence_text

        parts = [f"{it.item.item}", f"{it.mark.value}: {flat(it.why)}"]
        parts += [f"caveat: {flat(c)}" for c in it.caveats]
        for cid in it.checks:
            r = rec.navigator.results.get(cid)
            if r is not None:
                parts += ["", evidence_text(r)]
        self.app.push_screen(TextDialog("What proves it", "\n".join(parts)))

    def action_next(self) -> None:
        # The picture of the checklist goes into the report (taken here, where it is on screen).
        self.wizard.checklist_svg = self.app.export_screenshot(title="sfwizard · final checklist")
        super().action_next()
