"""One story per step: a sync that ran and failed is said so — in the watch's state, the check row, the lock and
the report — with the platform's error and what to fix first. And Skilljar's 21-day window: computed from the
disconnect as soon as it is known, its level (ok, amber, red, passed), the date editable, what arrived after
Backfill.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from walker import sign_in, start

from sfwizard.errors import SfwizardError
from sfwizard.recovery.wizard import SyncStatus, backfill_window, sync_state

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(("st", "state"), [
    (SyncStatus("UP", NOW + timedelta(minutes=1), None, 10, None, None), "completed"),
    (SyncStatus("DOWN", NOW - timedelta(days=3), "API_CURRENTLY_DISABLED: API is disabled", 10, None, None),
     "failed"),
    (SyncStatus("UP", NOW - timedelta(days=3), "Push failed: field X is not a PX_ field", 10, None, None), "failed"),
    (SyncStatus("UP", NOW - timedelta(days=3), None, 10, None, None), "waiting"),
    (SyncStatus(None, None, None, None, 0, None), "waiting"),
    (SyncStatus(None, None, None, None, 12, None), "running"),
])
def test_the_sync_state_is_read_from_what_the_apis_show(st: SyncStatus, state: str) -> None:
    assert sync_state(st, NOW) == state


@pytest.fixture
def mp():
    walk = start("missing-permissions")
    try:
        sign_in(walk)
        rec = walk.rec
        rec.perform_click("mappings")
        rec.save_snapshot(rec.snapshot_draft())
        yield walk
    finally:
        walk.rec.close()
        walk.env.stop()


def test_a_sync_that_ran_and_failed_is_one_story(mp) -> None:
    rec, vendor = mp.rec, mp.env.vendor
    rec.mark_reauthorize_started()
    vendor._authorize(logout=False)  # authorized before the permissions were fixed (the step was skipped)
    rec.navigator.session.step = "sync"
    assert rec.pending_click("sync") == "Click Synchronize on the Salesforce card"
    rec.perform_click("sync")
    seen: list[SyncStatus] = []
    final = rec.watch_sync(seen.append, interval=0.05, max_rounds=400)
    # the watch
    assert final.state == "failed" and final.failed
    assert final.status == "DOWN" and final.last_error.startswith("API_CURRENTLY_DISABLED")
    assert "the sync failed" in final.words() and "API_CURRENTLY_DISABLED" in final.words()
    assert {s.state for s in seen[:-1]} <= {"waiting", "running"}  # never "failed" before it failed
    assert rec.session.facts["sync_failed"]["value"]["error"].startswith("API_CURRENTLY_DISABLED")
    # the rows
    rec.run_step("sync")
    row = rec.navigator.results["token.platform_status"]
    assert row.status.value == "fail" and "API_CURRENTLY_DISABLED" in row.summary
    # the lock: the failure, the platform's error, and what to fix first — not "first run the sync"
    rec.run_step("reauthorize")
    lock = rec.lock("sync")
    assert lock.code == "sync.failed" and not lock.open
    assert "ran and failed" in lock.reason and "API_CURRENTLY_DISABLED" in lock.reason
    assert "fix first: add API Enabled" in lock.reason
    assert "first run the sync" not in lock.reason
    # the fix, clicked, then Synchronize again: completed
    rec.navigator.session.step = "reauthorize"
    while rec.pending_click("reauthorize") and "API Enabled" in rec.pending_click("reauthorize"):
        rec.perform_click("reauthorize")
        rec.run_step("reauthorize")
    rec.navigator.session.step = "sync"
    rec.run_step("sync")
    assert rec.pending_click("sync") == "Click Synchronize on the Salesforce card"
    rec.perform_click("sync")
    again = rec.watch_sync(lambda _s: None, interval=0.05, max_rounds=400)
    assert again.state in ("completed", "failed")
    if again.state == "failed":  # the edit access is still missing: the push fails, said as the platform says it
        assert "Push failed" in (again.last_error or "")
    else:
        assert "sync_failed" not in rec.session.facts


def test_a_failure_before_the_click_is_not_taken_for_this_sync(mp) -> None:
    """DOWN since the revocation, then Synchronize clicked after a fix: while it runs the platform still shows the
    old error — the state is "running", not "failed"."""
    rec = mp.rec
    rec.mark_sync_clicked()
    st = rec.sync_status()
    assert st.status == "DOWN" and st.state == "running"


# -- Skilljar's window ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("ago", "level"), [(timedelta(days=9), "ok"), (timedelta(days=18, hours=1), "amber"),
                                            (timedelta(days=20, hours=1), "red"), (timedelta(days=21), "passed"),
                                            (timedelta(days=30), "passed")])
def test_the_window_level(ago: timedelta, level: str) -> None:
    w = backfill_window(NOW - ago, 21, NOW)
    assert w.level == level
    assert w.deadline == NOW - ago + timedelta(days=21)
    assert w.passed == (level == "passed")


def test_the_window_words_say_the_deadline_in_local_time_and_utc(monkeypatch) -> None:
    import time

    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    try:
        w = backfill_window(datetime(2026, 11, 11, 9, 0, tzinfo=timezone.utc), 21, NOW)
        assert w.words() == "Backfill deadline 2026-12-02 01:00 PST (09:00 UTC) — 11 d 21 h left"
        late = backfill_window(datetime(2026, 10, 1, 9, 0, tzinfo=timezone.utc), 21, NOW)
        assert late.words() == "Backfill deadline 2026-10-22 02:00 PDT (09:00 UTC) — passed 29 d 3 h ago"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


@pytest.fixture
def sj():
    walk = start("skilljar-recent")
    try:
        yield walk
    finally:
        walk.rec.close()
        walk.env.stop()


def test_skilljar_window_is_known_from_the_sign_in_and_the_date_can_be_corrected(sj) -> None:
    rec = sj.rec
    assert rec.backfill_window() is None  # not known before anyone read the dashboard
    sign_in(sj)  # the demo reads the alert off the dashboard, as the admin would, at once
    w = rec.backfill_window()
    assert w is not None and w.level == "ok" and 11 < w.remaining.total_seconds() / 86400 < 13
    assert "dashboard's alert" in w.source
    assert rec.navigator.current_id == "before"  # known long before the Backfill step: Impact and the header
    rec.navigator.session.step = "sync"
    rec.run_step("sync")
    assert rec.navigator.results["skilljar.backfill_window"].status.value == "pass"
    # corrected: a mistyped date set again; the window's result is dropped and judged again
    corrected = rec.clock() - timedelta(days=19, hours=12)
    rec.set_disconnected_at(corrected.astimezone())
    assert "skilljar.backfill_window" not in rec.navigator.results
    assert rec.backfill_window().level == "amber"
    rec.run_step("sync")
    window = rec.navigator.results["skilljar.backfill_window"]
    assert window.evidence["disconnected_at"].startswith(corrected.strftime("%Y-%m-%dT%H:%M"))
    with pytest.raises(SfwizardError) as err:
        rec.set_disconnected_at(rec.clock() + timedelta(days=2))
    assert "in the future" in err.value.message and err.value.fix == "retry"


def test_what_arrived_after_backfill_is_there_for_the_card(sj) -> None:
    rec = sj.rec
    sign_in(sj)
    rec.perform_click("mappings")
    rec.save_snapshot(rec.snapshot_draft())
    rec.navigator.session.step = "reauthorize"
    rec.perform_click("reauthorize")  # Reconnect
    before = rec.backfill_outcome()
    assert before.state == "waiting" and before.total == 0
    rec.navigator.session.step = "sync"
    said = rec.perform_click("sync")
    assert said.startswith("Backfill clicked")
    done = rec.watch_sync(lambda _s: None, interval=0.05, max_rounds=200)
    assert done.state == "completed" and done.written_by_object
    rec.run_step("validate")
    after = rec.backfill_outcome()
    assert after.state == "completed" and after.clicked_at
    assert after.arrived == done.written_by_object and after.total == 35 + 35  # students and their progress
