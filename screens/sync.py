"""Step 6 · Synchronize (Gainsight PX) or Reconnect & backfill (Skilljar): what to click, then the sync
watched live from the platform and from Salesforce. Skilljar: the 21-day window, its deadline counting
down, and past it the support route."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, ProgressBar, Static

from . import messages as m
from .base import StepScreen
from .widgets import flat


def _when(dt: datetime | None) -> str:
    if dt is None:
        return "never"
    return f"{dt.astimezone():%Y-%m-%d %H:%M %Z} ({dt.astimezone(timezone.utc):%H:%M} GMT)"


class Step(StepScreen):
    STEP = "sync"
    AUTO_RUN = False
    BINDINGS = [Binding("w", "watch", "Watch again", show=False)]
    INTERVAL = 3.0

    def __init__(self) -> None:
        super().__init__()
        self.deadline: datetime | None = None
        self.started: datetime | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("", id="window", classes="card", markup=False)
        with Horizontal(id="ask-date", classes="inline"):
            yield Input(placeholder="disconnected at, from the dashboard's alert: 2026-11-20 14:30 (your time)",
                        id="disconnected")
            yield Button("Use this date", id="use-date")
        yield Static("", id="sync-title", classes="section", markup=False)
        yield ProgressBar(id="sync-bar", total=None, show_eta=False, show_percentage=False)
        yield Static("", id="sync-facts", markup=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#ask-date").display = False
        self.set_interval(1.0, self._tick)

    @property
    def skilljar(self) -> bool:
        rec = self.recovery
        return rec is not None and rec.profile.name == "skilljar"

    def on_enter(self) -> None:
        if self.skilljar:
            self.run_checks()  # the window first; the watch starts when it is known (after_results)
        else:
            self.action_watch()

    def after_results(self, results: list) -> None:  # noqa: ANN001
        if self.skilljar and not any(w.group == "watch" and w.is_running for w in self.workers):
            self.action_watch()

    def action_watch(self) -> None:
        rec = self.recovery
        if rec is None or rec.signed_in is None:
            return
        rec.cancel()
        self.started = rec.clock()
        self.show_text("sync-title", "Watching the sync" if not self.skilljar else "Watching records arrive")
        self.set_busy("watching (Esc stops)")
        self._watch(self.started)

    @work(thread=True, exclusive=True, group="watch", exit_on_error=False)
    def _watch(self, started: datetime) -> None:
        rec = self.recovery
        assert rec is not None
        rec.watch_sync(lambda st: self.post_message(m.SyncUpdate(st)), interval=self.INTERVAL,
                       started_at=started - timedelta(seconds=2))
        results = rec.run_step(self.STEP, on_result=lambda r: self.post_message(m.CheckFinished(r)))
        self.post_message(m.ChecksDone(results))

    def on_sync_update(self, message: m.SyncUpdate) -> None:
        st = message.status
        lines = []
        if st.status is not None:
            lines.append(f"Platform: {st.status} · last sync {_when(st.last_success)}"
                         + (f" · records processed {st.records_processed:,}" if st.records_processed is not None
                            else ""))
            if st.last_error:
                lines.append(f"Platform's last error (as it wrote it): {flat(st.last_error)}")
        if st.written_since is not None:
            lines.append(f"Salesforce: {st.written_since:,} record(s) written by the integration user since the "
                         "re-authorization" + (f" (org holds {st.total:,} Accounts and Contacts)" if st.total else ""))
        done = self.started is not None and st.last_success is not None and st.last_success >= self.started - \
            timedelta(seconds=2)
        bar = self.query_one("#sync-bar", ProgressBar)
        if done:
            bar.update(total=1, progress=1)
            lines.insert(0, "✔ The sync completed: the Last Sync time moved.")
        self.show_text("sync-facts", "\n".join(lines))

    def on_checks_done(self, message: m.ChecksDone) -> None:
        super().on_checks_done(message)
        self._window()
        rec = self.recovery
        if rec is not None and rec.navigator.has_fact("sync_completed"):  # also when resumed after it landed
            self.query_one("#sync-bar", ProgressBar).update(total=1, progress=1)
            facts = self.query_one("#sync-facts", Static)
            if "completed" not in str(facts.content):
                facts.update("✔ The sync completed.\n" + str(facts.content))

    def after_click(self) -> None:
        if not self.workers_running():
            self.action_watch()

    def refresh_frame(self) -> None:
        super().refresh_frame()
        self._window()

    # -- Skilljar's window ------------------------------------------------------------------------------------
    def _window(self) -> None:
        card = self.query_one("#window", Static)
        rec = self.recovery
        card.display = self.skilljar
        if rec is None or not self.skilljar:
            return
        r = rec.navigator.results.get("skilljar.backfill_window")
        ask = r is not None and r.status.value == "manual"
        self.query_one("#ask-date").display = ask
        if r is None:
            card.update("Reading the disconnect and the Backfill window…")
            return
        ev = r.evidence
        self.deadline = _deadline(ev)
        lines = [flat(r.summary)]
        if ev.get("disconnected_at"):
            lines.append(f"Disconnected: {_when(_parse(ev['disconnected_at']))}")
        if r.status.value == "fail":
            lines.append(f"Support route: {flat(r.resolution)}")
        card.set_class(r.status.value == "pass", "-good")
        card.set_class(r.status.value == "fail", "-bad")
        card.update("\n".join(lines) + self._countdown())

    def _countdown(self) -> str:
        if self.deadline is None:
            return ""
        rec = self.recovery
        now = rec.clock() if rec else datetime.now(timezone.utc)
        left = self.deadline - now
        if left.total_seconds() <= 0:
            return f"\nDeadline passed on {_when(self.deadline)}."
        d, rest = divmod(int(left.total_seconds()), 86400)
        h, rest = divmod(rest, 3600)
        mnt, s = divmod(rest, 60)
        return f"\nBackfill deadline {_when(self.deadline)} — {d} d {h:02}:{mnt:02}:{s:02} left"

    def _tick(self) -> None:
        if self.skilljar and self.deadline is not None and self.is_current:
            self._window()

    @on(Button.Pressed, "#use-date")
    @on(Input.Submitted, "#disconnected")
    def _use_date(self) -> None:
        rec = self.recovery
        text = self.query_one("#disconnected", Input).value.strip()
        try:
            when = datetime.fromisoformat(text.replace(" ", "T"))
        except ValueError:
            self.notify("Write the date as 2026-11-20 14:30", severity="warning")
            return
        if rec is None:
            return
        if when.tzinfo is None:
            when = when.astimezone()  # the dashboard shows the admin's local time
        rec.set_disconnected_at(when)
        self.run_checks()


def _parse(value: str) -> datetime | None:
    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def _deadline(ev: dict) -> datetime | None:
    if ev.get("deadline"):
        return _parse(ev["deadline"])
    start = _parse(ev["disconnected_at"]) if ev.get("disconnected_at") else None
    days = ev.get("window_days")
    return start + timedelta(days=int(days)) if start and days else None
