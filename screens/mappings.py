"""Step 4 · Document mappings: a table pre-filled from the APIs, edited in place, checked row by row against
Salesforce, saved to the YAML snapshot; what only the admin can read off the platform's screens is asked.
Only what the platform has is asked (Skilljar's package fixes its mappings: no matching logic to write down)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, DataTable, Input, Label, Select, SelectionList, Static

from .dialogs import Field, FormDialog
from .pane import StepPane
from .widgets import FitTable, Indented, TextField, flat, plain, say

if TYPE_CHECKING:
    from sfwizard.snapshot import FieldMapping, Snapshot

DIRECTIONS = [("Salesforce → platform", "sf_to_px"), ("platform → Salesforce (push)", "px_to_sf")]
SHORT = {"sf_to_px": "SF → platform", "px_to_sf": "push → SF"}


class MappingTable(FitTable):
    FLEX = {"sf": 4, "px": 3, "problem": 3}


class MappingDialog(FormDialog):
    """Add or edit one mapping row."""

    AUTO_FOCUS = "#salesforce"

    def __init__(self, row: FieldMapping | None) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Edit mapping" if self.row else "Add a mapping", classes="dialog-title")
            yield Field(value=self.row.salesforce if self.row else "", placeholder="Salesforce field: Account.Industry",
                        id="salesforce")
            yield Field(value=self.row.platform if self.row else "", placeholder="platform attribute: account.industry",
                        id="platform")
            yield Select(DIRECTIONS, value=self.row.direction if self.row else "sf_to_px", allow_blank=False,
                         id="direction")
            yield from self.form_end("Keep", "primary")

    def submit(self, values: dict[str, str]) -> None:
        from sfwizard.snapshot import FieldMapping

        sf, px = values["salesforce"].strip(), values["platform"].strip()
        direction = str(self.query_one("#direction", Select).value)
        if "." not in sf or "." not in px:
            self.problem("write both as Object.Field (Account.Industry, account.industry)")
            return
        self.dismiss(FieldMapping(sf, px, direction, self.row.type if self.row else ""))


class Step(StepPane):
    STEP = "mappings"
    AUTO_RUN = False
    BINDINGS = [
        Binding("a", "add", "Add row"),
        Binding("e", "edit", "Edit row"),
        Binding("d", "delete", "Delete row"),
        Binding("u", "undo", "Undo delete"),
        Binding("w", "save", "Save snapshot"),
        Binding("t", "retake", "Take again here"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.draft: Snapshot | None = None
        self.rows: list[FieldMapping] = []
        self.problems: dict[int, str] = {}
        self.problems_for: tuple[Any, ...] | None = None  # (org, user, rows) the problems were judged on
        self.deleted: list[tuple[int, FieldMapping]] = []  # for undo
        self.dirty = False
        self._kept: Snapshot | None = None  # on a retake: what the person typed, laid over the new draft
        self._table_shown: list[tuple[str, str, str, str]] | None = None  # the rows the table last drew

    def compose_body(self) -> ComposeResult:
        yield Indented(id="elsewhere", classes="card -bad")
        yield Static("", id="snap-path", classes="note", markup=False)
        yield Static("Field mappings (a add · e edit · d delete · u undo · w save)", classes="section",
                     id="maps-title")
        yield MappingTable(id="maps", cursor_type="row")
        with Vertical(id="pform"):
            yield Static("What only the platform's screens show", classes="section")
            yield Indented(id="ask", classes="note")
            with Vertical(id="px-only"):
                with Horizontal(classes="inline"):
                    yield Label("Account matching", classes="field-label")
                    yield TextField(placeholder="Salesforce field", id="m-acc-sf", compact=True)
                    yield TextField(placeholder="platform attribute", id="m-acc-px", compact=True)
                with Horizontal(classes="inline"):
                    yield Label("Contact matching", classes="field-label")
                    yield TextField(placeholder="Salesforce field", id="m-con-sf", compact=True)
                    yield TextField(placeholder="platform attribute", id="m-con-px", compact=True)
                with Horizontal(classes="inline"):
                    yield Label("Custom objects", classes="field-label")
                    yield TextField(placeholder="API names, comma-separated", id="custom", compact=True)
            yield Checkbox("The Knowledge integration is used (Salesforce Knowledge in the In-App Hub)", id="k-used")
            with Horizontal(classes="inline", id="k-article-row"):
                yield Label("Known article", classes="field-label")
                yield TextField(placeholder="a title you know exists (for the Knowledge step)", id="k-article",
                            compact=True)
            yield Static("Still to complete (tick what you did)", classes="section", id="todo-title")
            yield SelectionList[int](id="todo")
            yield Button("Save snapshot (w)", id="save", variant="primary", compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#maps", DataTable)
        for key, label in (("sf", "Salesforce field"), ("px", "platform attribute"), ("dir", "direction"),
                           ("problem", "problem")):
            table.add_column(label, key=key, width=13)
        self.query_one("#pform").display = False

    # -- the platform's shape ---------------------------------------------------------------------------------
    @property
    def px(self) -> bool:
        """The platform has matching logic, custom objects and mapping screens (Gainsight PX; not Skilljar)."""
        return bool(self.rec.profile.platform_api)

    @property
    def knowledge(self) -> bool:
        products = self.rec.profile.products or {}
        return bool(products.get("knowledge"))

    # -- loading -----------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self.draft is None:
            self.busy = "pre-filling from the APIs"
            self._load()
        elif self._problems_stale():
            self._validate(list(self.rows))
        elif self.rec.navigator.has_fact("snapshot_saved") and self.missing():
            self.run_checks()

    @work(thread=True, exclusive=True, group="mappings", exit_on_error=False)
    def _load(self) -> None:
        rec = self.rec
        draft = rec.snapshot_draft()
        basis = self._basis(draft.mappings)
        problems = rec.mapping_problems(draft.mappings)
        self.app.call_from_thread(self._loaded, draft, problems, basis)

    def _loaded(self, draft: Snapshot, problems: dict[int, str], basis: tuple[Any, ...]) -> None:
        kept = self._kept
        if kept is not None:  # a retake: what the person typed stays, the org's fields are read afresh
            self._kept = None
            draft = dataclasses.replace(draft, matching=kept.matching, custom_objects=kept.custom_objects,
                                        knowledge=kept.knowledge, to_complete=kept.to_complete,
                                        mappings=kept.mappings or draft.mappings)
            self.dirty = True
        self.draft = draft
        self.rows = list(draft.mappings)
        self.deleted.clear()
        self.problems, self.problems_for = problems, basis
        self.busy = ""
        self._fill_form(draft)
        self.render_state()
        if self.rec.navigator.has_fact("snapshot_saved") and self.missing():
            self.run_checks()

    def _fill_form(self, d: Snapshot) -> None:
        """The form's fields from a (new) draft: written once per draft, so a person's typing is never undone."""
        acc, con = d.matching.get("account", {}), d.matching.get("contact", {})
        values = {"#m-acc-sf": acc.get("salesforce", ""), "#m-acc-px": acc.get("platform", ""),
                  "#m-con-sf": con.get("salesforce", ""), "#m-con-px": con.get("platform", ""),
                  "#custom": ", ".join(d.custom_objects), "#k-article": d.knowledge.known_article}
        for selector, value in values.items():
            self.query_one(selector, Input).value = value
        self.query_one("#k-used", Checkbox).value = d.knowledge.used
        todo = self.query_one("#todo", SelectionList)
        todo.clear_options()
        todo.add_options([(flat(item), i) for i, item in enumerate(d.to_complete)])
        form = self.query_one("#pform")
        form.display = True
        self.query_one("#px-only").display = self.px
        for wid in ("#k-used", "#k-article-row"):
            self.query_one(wid).display = self.knowledge
        self.query_one("#todo-title").display = todo.display = bool(d.to_complete)
        where = ("Administration → Integrations → Salesforce in Gainsight PX" if self.px else
                 f"the {self.rec.profile.vendor} dashboard (Integrations → Salesforce)")
        self.query_one("#ask", Indented).show([("", "", f"Read these off {where} (no public API lists them); "
                                                        "tick what you completed.")])

    # -- drawing -----------------------------------------------------------------------------------------------
    def render_state(self) -> None:
        rec = self.rec
        table = self.query_one("#maps", DataTable)
        stale = self._problems_stale()
        shown = [(r.salesforce, r.platform, SHORT.get(r.direction, r.direction),
                  "" if stale else self.problems.get(i, "")) for i, r in enumerate(self.rows)]
        if shown != self._table_shown:  # rebuilt only when a row changed (every return redraws from state)
            self._table_shown = shown
            keep = table.cursor_row
            table.clear()
            for i, (sf, platform, direction, problem) in enumerate(shown):
                table.add_row(plain(sf), plain(platform), plain(direction),
                              plain(problem, "bold red" if problem else ""), key=str(i))
            if self.rows:
                table.move_cursor(row=min(max(keep, 0), len(self.rows) - 1), animate=False)
        table.display = bool(self.rows) or self.px
        self.query_one("#maps-title").display = table.display
        elsewhere = rec.snapshot_elsewhere()
        card = self.query_one("#elsewhere", Indented)
        card.display = elsewhere is not None
        if elsewhere is not None:
            card.show([("", "", f"This snapshot is of {elsewhere[0]}; sfwizard is signed in to {elsewhere[1]}."),
                       ("", "", "If the integration's data lives here, press t to take it again from this org "
                                "(what you typed from the platform's screens is kept). If it lives there, sign in "
                                "to that org at step 2.")])
        saved = rec.session.snapshot_path
        path = self.query_one("#snap-path", Static)
        if self.draft is None:
            say(path, "Reading what the APIs show…")
        elif saved:
            say(path, f"Snapshot: {saved}" + (" (unsaved changes: w saves)" if self.dirty else ""))
        else:
            say(path, "Snapshot: not saved yet — complete what you can and press w")
        super().render_state()

    def _basis(self, rows: Any) -> tuple[Any, ...]:
        who = self.rec.signed_in
        return (who.org_id if who else "", who.user_id if who else "", tuple(rows))

    def _problems_stale(self) -> bool:
        """The row problems were judged in another org (or for other rows): not shown, judged again."""
        return self.problems_for != self._basis(self.rows)

    def state_moved(self, dropped: set[str]) -> None:
        if self._problems_stale():
            self._stale = True
        super().state_moved(dropped)

    # -- editing ---------------------------------------------------------------------------------------------
    def action_add(self) -> None:
        self.wizard.open_dialog(MappingDialog(None), self._added)

    def _added(self, row: FieldMapping | None) -> None:
        if row is not None:
            self.rows.append(row)
            self._changed()

    def _cursor(self) -> int:
        return self.query_one("#maps", DataTable).cursor_row

    def action_edit(self) -> None:
        i = self._cursor()
        if 0 <= i < len(self.rows):
            self.wizard.open_dialog(MappingDialog(self.rows[i]), lambda row, i=i: self._edited(i, row))

    def _edited(self, i: int, row: FieldMapping | None) -> None:
        if row is not None and 0 <= i < len(self.rows):
            self.rows[i] = row
            self._changed()

    def action_delete(self) -> None:
        i = self._cursor()
        if 0 <= i < len(self.rows):
            row = self.rows.pop(i)
            self.deleted.append((i, row))
            self._changed()
            self.notify(f"Deleted {flat(row.salesforce)} → {flat(row.platform)}. Press u to undo.", timeout=8,
                        markup=False)

    def action_undo(self) -> None:
        if self.deleted:
            i, row = self.deleted.pop()
            self.rows.insert(min(i, len(self.rows)), row)
            self._changed()
            self.query_one("#maps", DataTable).move_cursor(row=min(i, len(self.rows) - 1))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit", "delete"):
            return None if not self.rows else True
        if action == "undo":
            return bool(self.deleted)
        if action == "retake":
            return self.rec.snapshot_elsewhere() is not None and not self.workers_running()
        if action in ("add", "save"):
            return None if self.draft is None or self.workers_running() else True
        return True

    @on(DataTable.RowSelected, "#maps")
    def _row_chosen(self) -> None:
        self.action_edit()

    def _changed(self) -> None:
        self.dirty = True
        self.render_state()
        self._validate(list(self.rows))

    @work(thread=True, exclusive=True, group="validate", exit_on_error=False)
    def _validate(self, rows: list[FieldMapping]) -> None:
        basis = self._basis(rows)
        problems = self.rec.mapping_problems(rows)
        self.app.call_from_thread(self._validated, rows, problems, basis)

    def _validated(self, rows: list[FieldMapping], problems: dict[int, str], basis: tuple[Any, ...]) -> None:
        if rows == self.rows:  # not overtaken by a newer edit
            self.problems, self.problems_for = problems, basis
            self.render_state()

    # -- saving ------------------------------------------------------------------------------------------------
    @on(Button.Pressed, "#save")
    def action_save(self) -> None:
        if self.draft is None or self.workers_running():
            return
        snap = self._snapshot()
        self.busy = "saving the snapshot"
        self._save(snap)

    def _snapshot(self) -> Snapshot:
        assert self.draft is not None
        d = self.draft

        def pair(a: str, b: str) -> dict[str, str] | None:
            sf, px = self.query_one(a, Input).value.strip(), self.query_one(b, Input).value.strip()
            return {"salesforce": sf, "platform": px} if sf and px else None

        if self.px:
            matching = {k: v for k, v in (("account", pair("#m-acc-sf", "#m-acc-px")),
                                          ("contact", pair("#m-con-sf", "#m-con-px"))) if v}
            custom = tuple(x.strip() for x in self.query_one("#custom", Input).value.split(",") if x.strip())
        else:
            matching, custom = dict(d.matching), tuple(d.custom_objects)
        done = set(self.query_one("#todo", SelectionList).selected)
        knowledge = d.knowledge
        if self.knowledge:
            knowledge = dataclasses.replace(d.knowledge, used=self.query_one("#k-used", Checkbox).value,
                                            known_article=self.query_one("#k-article", Input).value.strip())
        return dataclasses.replace(d, mappings=tuple(self.rows), matching=matching, custom_objects=custom,
                                   knowledge=knowledge,
                                   to_complete=tuple(t for i, t in enumerate(d.to_complete) if i not in done))

    @work(thread=True, exclusive=True, group="mappings", exit_on_error=False)
    def _save(self, snap: Snapshot) -> Any:
        rec = self.rec
        path = rec.save_snapshot(snap)
        basis = self._basis(snap.mappings)
        problems = rec.mapping_problems(snap.mappings)
        self.app.call_from_thread(self._saved, snap, path, problems, basis)
        return path

    def _saved(self, snap: Snapshot, path: Any, problems: dict[int, str], basis: tuple[Any, ...]) -> None:
        self.draft = snap
        self.dirty = False
        self.problems, self.problems_for = problems, basis
        self.busy = ""
        self._fill_form(snap)
        self.notify(f"Saved {path}", title="Snapshot", timeout=5, markup=False)
        self.render_state()
        self.run_checks()

    def action_retake(self) -> None:
        """The snapshot is of another org: read the draft again from this org's APIs, keeping what the person
        typed from the platform's screens (matching, custom objects, what they ticked)."""
        if self.workers_running() or self.rec.snapshot_elsewhere() is None:
            return
        self._kept = self._snapshot() if self.draft is not None else None
        self.rec.discard_snapshot()
        self.draft = None
        self.busy = "reading this org's fields"
        self._load()

    def before_next(self) -> bool:
        if self.dirty:
            self.notify("The table has changes not saved in the snapshot: press w to save them (or Skip).",
                        title="Unsaved mappings", severity="warning")
            return False
        return True

    def after_click(self) -> None:
        """Demo: the admin read the platform's mapping screens; the table starts again from that."""
        self.dirty = True
        self.busy = "filling in what the platform's screens show"
        self._load()
