"""Step 6 · Synchronize (Gainsight PX) or Backfill (Skilljar): what to click, then the sync watched live from the
platform and from Salesforce. Skilljar: the 21-day window, its deadline counting down (amber under 3 days, red
under 1), the disconnect date editable, and past the deadline the support route."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, ProgressBar, Static

from . import messages as m
from .pane import StepPane
from .widgets import Indented, TextField, flat, say

if TYPE_CHECKING:
    from sfwizard.recovery.wizard import SyncStatus


def when(dt: datetime | None) -> str:
    """A time once, in the person's zone, with UTC beside it."""
    if dt is None:
        return "never"
    local = dt.astimezone()
    utc = dt.astimezone(timezone.utc)
    same = local.utcoffset() == utc.utcoffset()
    return f"{local:%Y-%m-%d %H:%M} {local:%Z}".strip() + ("" if same else f" ({utc:%H:%M} UTC)")


def parse_time(value: object) -> datetime | None:
    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


class Step(StepPane):
    STEP = "sync"
    AUTO_RUN = False
    BINDINGS = [Binding("w", "watch", "Watch again"), Binding("t", "edit_date", "Disconnect time"),
                Binding("a", "clicked", "We clicked it")]
    INTERVAL = 3.0

    def __init__(self) -> None:
        super().__init__()
        self.status: SyncStatus | None = None  # the latest look at the sync (from the watch)
        self.watch_started: datetime | None = None
        self.editing = False

    def compose_body(self) -> ComposeResult:
        yield Indented(id="window", classes="card")
        with Horizontal(id="ask-date", classes="inline"):
            yield TextField(placeholder="disconnected at, from the dashboard's alert: 2026-11-20 14:30 (your time)",
                        id="disconnected")
            yield Button("Use this time", id="use-date", compact=True)
        yield Static("", id="sync-title", classes="section", markup=False)
        yield ProgressBar(id="sync-bar", total=None, show_eta=False, show_percentage=False)
        yield Indented(id="sync-facts")

    def on_mount(self) -> None:
        self.query_one("#ask-date").display = False
        self.set_interval(30.0, self._tick)  # the countdown moves by the minute

    @property
    def skilljar(self) -> bool:
        return self.rec.profile.backfill is not None

    # -- what runs when shown ----------------------------------------------------------------------------------
    def start(self) -> None:
        rec = self.rec
        if rec.navigator.has_fact("sync_completed"):
            if self.missing():
                self.run_checks()
            return
        if self.skilljar and "skilljar.backfill_window" not in rec.navigator.results:
            self.run_checks()  # the window first; the watch starts when it is known (after_results)
        else:
            self.action_watch()

    def after_results(self, results: list) -> None:  # noqa: ANN001 - the base's signature
        rec = self.rec
        if self.skilljar and not rec.navigator.has_fact("sync_completed") and self.in_view \
                and not self.workers_running():
            window = rec.navigator.results.get("skilljar.backfill_window")
            if window is not None and window.status.value == "pass":
                self.action_watch()

    def action_watch(self) -> None:
        if self.workers_running("watch", "checks"):
            return
        self.watch_started = self.rec.clock()
        self.busy = "watching the sync" if not self.skilljar else "watching for the backfilled records"
        self._watch(self.watch_started)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        rec = self.rec
        if action == "watch":
            return not self.workers_running("watch") and not rec.navigator.has_fact("sync_completed")
        if action == "edit_date":
            return self.skilljar
        if action == "clicked":  # a real run: the wizard cannot see the click; the person says it
            return rec.demo_scenario is None and not rec.navigator.has_fact("sync_clicked") \
                and not rec.navigator.has_fact("sync_completed")
        return True

    def action_clicked(self) -> None:
        """The person says Synchronize (Backfill) was clicked: the sync is judged from now, and watched."""
        self.rec.mark_sync_clicked()
        self.status = None
        self.action_watch()

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def _watch(self, started: datetime) -> None:
        rec = self.rec
        rec.cancel()
        def look(st: object) -> None:
            self.still_wanted()  # left (or Esc): no more looks
            self.post_message(m.SyncUpdate(st))

        rec.watch_sync(look, interval=self.INTERVAL, started_at=started - timedelta(seconds=2))
        ids = rec.step_checks(self.STEP)
        results = rec.run_step(self.STEP, on_result=lambda r: self.post_message(m.CheckFinished(r)))
        self.post_message(m.ChecksDone(results, ids))

    def on_sync_update(self, message: m.SyncUpdate) -> None:
        self.status = message.status
        self.render_state()

    def after_click(self) -> None:
        self.action_watch()  # the click's own worker is ending; a watch already under way sees the sync

    # -- drawing -----------------------------------------------------------------------------------------------
    def render_state(self) -> None:
        self._window()
        self._sync_facts()
        super().render_state()

    def _sync_facts(self) -> None:
        """One story, the same as the rows and the lock: waiting, running, completed (what arrived), or failed
        with the platform's error as it wrote it."""
        rec = self.rec
        st = self.status
        outcome = rec.backfill_outcome()
        done = rec.navigator.has_fact("sync_completed")
        state = "completed" if done else st.state if st is not None else outcome.state
        click = (rec.profile.ui or {}).get("sync_click") or ("Backfill" if self.skilljar else "Synchronize")
        say(self.query_one("#sync-title", Static), f"After {click}" if outcome.clicked_at or done else click)
        lines: list[tuple[str, str, str]] = []
        if state == "completed":
            at = parse_time(outcome.completed_at)
            lines.append(("✔ ", "  ", f"{'The backfill' if self.skilljar else 'The sync'} completed"
                          + (f" at {when(at)}" if at else "") + "."))
        elif state == "failed":
            error = (st.last_error if st is not None else None) or outcome.error or "no error given"
            lines.append(("✘ ", "  ", f"The sync ran and failed — the platform wrote: {flat(error)}"))
            lines.append(("", "", f"Fix what the rows below name, then click {click} again (w watches again)."))
        elif state == "running":
            lines.append(("… ", "  ", st.words() if st is not None else f"{click} was clicked; watching it."))
        else:
            who = rec.profile.vendor
            lines.append(("", "", f"Waiting for the {who} admin to click {click}"
                          + (" (press a once clicked)." if rec.demo_scenario is None else " (v does it).")))
        if outcome.clicked_at:
            lines.append(("Clicked: ", "    ", when(parse_time(outcome.clicked_at))))
        if st is not None and st.status is not None:
            lines.append(("Platform: ", "    ", f"{st.status} · last sync {when(st.last_success)}"
                          + (f" · records processed {st.records_processed:,}" if st.records_processed is not None
                             else "")))
            if st.last_error and state != "failed":
                lines.append(("Platform's last error (as it wrote it): ", "    ", flat(st.last_error)))
        arrived = dict(st.written_by_object) if st is not None and st.written_by_object else outcome.arrived
        if arrived:
            lines.append(("Arrived in Salesforce: ", "    ", ", ".join(f"{n:,} {obj}" for obj, n in arrived.items())
                          + f" (since {when(st.since) if st is not None and st.since else 'the click'})"))
        elif st is not None and st.written_since is not None:
            lines.append(("Salesforce: ", "    ", f"{st.written_since:,} record(s) written by the integration user "
                          "since the re-authorization" + (f" (the org holds {st.total:,} Accounts and Contacts)"
                                                          if st.total else "")))
        self.query_one("#sync-facts", Indented).show(lines)
        bar = self.query_one("#sync-bar", ProgressBar)
        if state == "completed":
            bar.update(total=1, progress=1)
        bar.display = state == "completed" or self.workers_running("watch")

    def _window(self) -> None:
        card = self.query_one("#window", Indented)
        rec = self.rec
        card.display = self.skilljar
        if not self.skilljar:
            return
        r = rec.navigator.results.get("skilljar.backfill_window")
        w = rec.backfill_window()
        ask = w is None and r is not None and r.status.value == "manual"
        self.query_one("#ask-date").display = ask or self.editing
        for cls in ("-good", "-warn", "-bad"):
            card.remove_class(cls)
        lines: list[tuple[str, str, str] | str] = []
        if w is None:
            lines.append("The disconnect time is not known yet: type it as the dashboard's alert shows it.")
        else:
            card.add_class({"ok": "-good", "amber": "-warn"}.get(w.level, "-bad"))
            lines.append(("", "", w.words()))
            lines.append(("Disconnected: ", "    ", f"{when(w.disconnected_at)} ({w.source}) — t changes it"))
        if r is not None and r.status.value == "fail":
            lines.append(("Support route: ", "    ", flat(self.words(r)[1])))
        outcome = rec.backfill_outcome()
        if outcome.clicked_at or rec.navigator.has_fact("sync_completed"):
            total = outcome.total
            lines.append(("After Backfill: ", "    ", f"{total:,} record(s) arrived" if total else
                          "the backfill ran; what arrived is counted on Validate"))
        card.show(lines)

    def _tick(self) -> None:
        if self.skilljar and self.in_view:
            self._window()

    # -- Skilljar's disconnect time, as the dashboard's alert shows it -------------------------------------------
    def action_edit_date(self) -> None:
        self.editing = True
        self._window()
        field = self.query_one("#disconnected", Input)
        field.focus()

    @on(Button.Pressed, "#use-date")
    @on(Input.Submitted, "#disconnected")
    def _use_date(self, event: Input.Submitted | Button.Pressed) -> None:
        text = (event.value if isinstance(event, Input.Submitted) else
                self.query_one("#disconnected", Input).value).strip()
        try:
            moment = datetime.fromisoformat(text.replace(" ", "T"))
        except ValueError:
            self.notify("Write the time as 2026-11-20 14:30 (your time), as the dashboard's alert shows it",
                        severity="warning")
            return
        if moment.tzinfo is None:
            moment = moment.astimezone()  # the dashboard shows the admin's local time
        from sfwizard.errors import SfwizardError

        if self.workers_running():
            self.rec.cancel()  # a watch judged on the old time ends; the window is judged again (state_moved)
        try:
            self.rec.set_disconnected_at(moment, source="typed from the dashboard's alert")
        except SfwizardError as exc:
            self.notify(flat(exc.message), severity="warning", markup=False)
            return
        self.editing = False
        self.focus()
