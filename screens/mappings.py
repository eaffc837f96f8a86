"""Step 4 · Document mappings: a table pre-filled from the APIs, edited in place, checked row by row against
Salesforce, saved to the YAML snapshot; what only the admin can read off the platform's screens is asked."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.lazy import Lazy
from textual.widgets import Button, Checkbox, DataTable, Input, Label, Select, Static

from .base import StepScreen
from .dialogs import FormDialog
from .widgets import FitTable, flat, plain

if TYPE_CHECKING:
    from sfwizard.snapshot import FieldMapping, Snapshot

DIRECTIONS = [("Salesforce → platform", "sf_to_px"), ("platform → Salesforce (push)", "px_to_sf")]
SHORT = {"sf_to_px": "SF → platform", "px_to_sf": "push → SF"}


class MappingTable(FitTable):
    FLEX = {"sf": 4, "px": 3, "problem": 3}


class MappingDialog(FormDialog):
    """Add or edit one mapping row."""

    def __init__(self, row: FieldMapping | None, skilljar: bool = False) -> None:
        super().__init__()
        self.row = row
        self.skilljar = skilljar

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Edit mapping" if self.row else "Add a mapping", classes="dialog-title")
            yield Input(value=self.row.salesforce if self.row else "", placeholder="Salesforce field: Account.Industry",
                        id="salesforce")
            yield Input(value=self.row.platform if self.row else "", placeholder="platform attribute: account.industry",
                        id="platform")
            yield Select(DIRECTIONS, value=self.row.direction if self.row else "sf_to_px", allow_blank=False,
                         id="direction")
            yield from self.form_end("Keep", "primary")

    def submit(self) -> None:
        from sfwizard.snapshot import FieldMapping

        sf = self.query_one("#salesforce", Input).value.strip()
        px = self.query_one("#platform", Input).value.strip()
        direction = str(self.query_one("#direction", Select).value)
        if "." not in sf or "." not in px:
            self.problem("write both as Object.Field (Account.Industry, account.industry)")
            return
        self.dismiss(FieldMapping(sf, px, direction, self.row.type if self.row else ""))


class Step(StepScreen):
    STEP = "mappings"
    AUTO_RUN = False
    BINDINGS = [
        Binding("a", "add", "Add row"),
        Binding("e", "edit", "Edit row"),
        Binding("d", "delete", "Delete row"),
        Binding("w", "save", "Save snapshot"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.draft: Snapshot | None = None
        self.rows: list[FieldMapping] = []
        self.problems: dict[int, str] = {}
        self.dirty = False

    def compose_body(self) -> ComposeResult:
        yield Static("", id="snap-path", classes="note", markup=False)
        yield Static("Field mappings (a add · e edit · d delete · w save)", classes="section")
        yield MappingTable(id="maps", cursor_type="row")
        # The form below the table is mounted a frame later (Lazy): built with the rest, the step took one
        # event-loop turn of 70 ms and more (benchmarks/run.py: stall). Nothing reads it before the draft loads.
        with Lazy(Vertical(id="pform")):
            yield Static("What only the platform's screens show", classes="section")
            yield Static("", id="ask", classes="note", markup=False)
            with Horizontal(classes="inline"):
                yield Label("Account matching", classes="field-label")
                yield Input(placeholder="Salesforce field", id="m-acc-sf", compact=True)
                yield Input(placeholder="platform attribute", id="m-acc-px", compact=True)
            with Horizontal(classes="inline"):
                yield Label("Contact matching", classes="field-label")
                yield Input(placeholder="Salesforce field", id="m-con-sf", compact=True)
                yield Input(placeholder="platform attribute", id="m-con-px", compact=True)
            with Horizontal(classes="inline"):
                yield Label("Custom objects", classes="field-label")
                yield Input(placeholder="API names, comma-separated", id="custom", compact=True)
            yield Checkbox("The Knowledge integration is used (Salesforce Knowledge in the In-App Hub)", id="k-used")
            with Horizontal(classes="inline", id="k-article-row"):
                yield Label("Known article", classes="field-label")
                yield Input(placeholder="a title you know exists (for the Knowledge step)", id="k-article",
                            compact=True)
            yield Vertical(id="todo")
            yield Button("Save snapshot (w)", id="save", variant="primary", compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#maps", DataTable)
        for key, label in (("sf", "Salesforce field"), ("px", "platform attribute"), ("dir", "direction"),
                           ("problem", "problem")):
            table.add_column(label, key=key, width=13)
        super().on_mount()

    def on_enter(self) -> None:
        self.set_busy("pre-filling from the APIs")
        self._load()

    @work(thread=True, exclusive=True, group="mappings", exit_on_error=False)
    def _load(self) -> None:
        rec = self.recovery
        assert rec is not None
        draft = rec.snapshot_draft()
        problems = rec.mapping_problems(draft.mappings)
        self.app.call_from_thread(self._loaded, draft, problems)

    def _loaded(self, draft: Snapshot, problems: dict[int, str]) -> None:
        if not self.query("#pform"):  # the form is mounted after the first frame: fill it once it is there
            self.call_after_refresh(self._loaded, draft, problems)
            return
        self.draft = draft
        self.rows = list(draft.mappings)
        self.problems = problems
        self.set_busy("")
        self._fill_form(draft)
        self._redraw()
        rec = self.recovery
        if rec is not None and rec.navigator.has_fact("snapshot_saved"):
            self.run_checks()

    def _fill_form(self, d: Snapshot) -> None:
        acc, con = d.matching.get("account", {}), d.matching.get("contact", {})
        self.query_one("#m-acc-sf", Input).value = acc.get("salesforce", "")
        self.query_one("#m-acc-px", Input).value = acc.get("platform", "")
        self.query_one("#m-con-sf", Input).value = con.get("salesforce", "")
        self.query_one("#m-con-px", Input).value = con.get("platform", "")
        self.query_one("#custom", Input).value = ", ".join(d.custom_objects)
        self.query_one("#k-used", Checkbox).value = d.knowledge.used
        self.query_one("#k-article", Input).value = d.knowledge.known_article
        rec = self.recovery
        has_knowledge = bool(rec and rec.profile.products and rec.profile.products.get("knowledge"))
        for wid in ("#k-used", "#k-article-row"):
            self.query_one(wid).display = has_knowledge
        todo = self.query_one("#todo", Vertical)
        todo.remove_children()
        for i, item in enumerate(d.to_complete):
            todo.mount(Checkbox(flat(item), id=f"todo-{i}"))
        self.show_text("ask", "Read these off Administration → Integrations → Salesforce in the platform "
                              "(no public API lists them), then tick what you completed.")

    def _redraw(self) -> None:
        table = self.query_one("#maps", DataTable)
        keep = table.cursor_row
        table.clear()
        for i, r in enumerate(self.rows):
            problem = self.problems.get(i, "")
            table.add_row(plain(r.salesforce), plain(r.platform), plain(SHORT.get(r.direction, r.direction)),
                          plain(problem, "bold red" if problem else ""), key=str(i))
        if self.rows:
            table.move_cursor(row=min(keep, len(self.rows) - 1))
        rec = self.recovery
        saved = rec.session.snapshot_path if rec else None
        self.show_text("snap-path", (f"Snapshot: {saved}" + (" (unsaved changes)" if self.dirty else ""))
                       if saved else "Snapshot: not saved yet — complete the table and press w")

    # -- editing ---------------------------------------------------------------------------------------------
    def action_add(self) -> None:
        self.app.push_screen(MappingDialog(None), self._added)

    def _added(self, row: FieldMapping | None) -> None:
        if row is not None:
            self.rows.append(row)
            self._changed()

    def action_edit(self) -> None:
        i = self.query_one("#maps", DataTable).cursor_row
        if 0 <= i < len(self.rows):
            self.app.push_screen(MappingDialog(self.rows[i]), lambda row, i=i: self._edited(i, row))

    def _edited(self, i: int, row: FieldMapping | None) -> None:
        if row is not None:
            self.rows[i] = row
            self._changed()

    def action_delete(self) -> None:
        i = self.query_one("#maps", DataTable).cursor_row
        if 0 <= i < len(self.rows):
            del self.rows[i]
            self._changed()

    @on(DataTable.RowSelected, "#maps")
    def _row_chosen(self) -> None:
        self.action_edit()

    def _changed(self) -> None:
        self.dirty = True
        self.problems = {}
        self._redraw()
        self._validate(list(self.rows))

    @work(thread=True, exclusive=True, group="mappings", exit_on_error=False)
    def _validate(self, rows: list[FieldMapping]) -> None:
        rec = self.recovery
        assert rec is not None
        problems = rec.mapping_problems(rows)
        self.app.call_from_thread(self._validated, rows, problems)

    def _validated(self, rows: list[FieldMapping], problems: dict[int, str]) -> None:
        if rows == self.rows:  # not overtaken by a newer edit
            self.problems = problems
            self._redraw()

    # -- saving ------------------------------------------------------------------------------------------------
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if self.draft is None:
            return
        snap = self._snapshot()
        self.set_busy("saving the snapshot")
        self._save(snap)

    def _snapshot(self) -> Snapshot:
        assert self.draft is not None
        d = self.draft

        def pair(a: str, b: str) -> dict[str, str] | None:
            sf, px = self.query_one(a, Input).value.strip(), self.query_one(b, Input).value.strip()
            return {"salesforce": sf, "platform": px} if sf and px else None

        matching = {k: v for k, v in (("account", pair("#m-acc-sf", "#m-acc-px")),
                                      ("contact", pair("#m-con-sf", "#m-con-px"))) if v}
        custom = tuple(x.strip() for x in self.query_one("#custom", Input).value.split(",") if x.strip())
        done = {i for i, _ in enumerate(d.to_complete) if self.query_one(f"#todo-{i}", Checkbox).value}
        knowledge = dataclasses.replace(d.knowledge, used=self.query_one("#k-used", Checkbox).value,
                                        known_article=self.query_one("#k-article", Input).value.strip())
        return dataclasses.replace(d, mappings=tuple(self.rows), matching=matching, custom_objects=custom,
                                   knowledge=knowledge,
                                   to_complete=tuple(t for i, t in enumerate(d.to_complete) if i not in done))

    @work(thread=True, exclusive=True, group="mappings", exit_on_error=False)
    def _save(self, snap: Snapshot) -> Any:
        rec = self.recovery
        assert rec is not None
        path = rec.save_snapshot(snap)
        problems = rec.mapping_problems(snap.mappings)
        self.app.call_from_thread(self._saved, snap, path, problems)
        return path

    def _saved(self, snap: Snapshot, path: Any, problems: dict[int, str]) -> None:
        self.draft = snap
        self.dirty = False
        self.problems = problems
        self.set_busy("")
        self._redraw()
        self.notify(f"Saved {path}", title="Snapshot", timeout=5, markup=False)
        self.wizard.refresh_chrome()
        self.run_checks()

    def refresh_frame(self) -> None:
        super().refresh_frame()
        if self.draft is not None:
            self._redraw()

    def after_click(self) -> None:
        """Demo: the admin read the platform's mapping screens; the table starts again from that."""
        self.dirty = True
        self.set_busy("filling in what the platform's screens show")
        self._load()
