"""Skilljar's Backfill follows the integration's state and the disconnect, not the Last Sync Date."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from sfwizard.demo import open_demo

WINDOW = ("skilljar.backfill_window", "skilljar.backfill_arrived", "token.fresh")


def _skilljar(scenario_file, **keys: str) -> str:
    lines = "\n".join(f"  {k}: {v}" for k, v in keys.items())
    return scenario_file(f"schema: 1\nname: sj\nextends: skilljar-recent\nskilljar:\n{lines}\n")


def _window(check_json, path: str) -> dict:
    return check_json(path, "--only", ",".join(WINDOW))["by_id"]["skilljar.backfill_window"]


def test_a_connected_integration_offers_no_backfill(check_json, scenario_file) -> None:
    r = _window(check_json, _skilljar(scenario_file, status="connected", disconnected="null", last_sync="-40m"))
    assert r["status"] == "pass" and "no Backfill is offered" in r["summary"]
    assert "available" not in r["summary"] and "deadline" not in r["evidence"]
    assert r["evidence"]["connected"] is True and "token used" in r["evidence"]["connected_by"]


def test_the_window_runs_from_the_disconnect_not_the_last_sync(check_json, scenario_file) -> None:
    r = _window(check_json, _skilljar(scenario_file, disconnected="-20.5d", last_sync="-21.3d"))
    assert r["status"] == "pass" and "Reconnect, then click Backfill" in r["summary"]
    ev = r["evidence"]
    assert 0.4 <= ev["days_left"] <= 0.6 and ev["connected"] is False
    deadline = datetime.fromisoformat(ev["deadline"])
    assert abs(deadline - (datetime.fromisoformat(ev["disconnected_at"]) + timedelta(days=21))) < timedelta(seconds=1)
    assert deadline.strftime("%Y-%m-%d") in r["summary"]
    # the Backfill the dashboard offers agrees: it pushes from the Last Sync Date
    assert ev["last_sync_date_seen_in_salesforce"] < ev["disconnected_at"]


def test_past_the_deadline_the_support_route_says_what_to_send(check_json, scenario_file) -> None:
    r = _window(check_json, _skilljar(scenario_file, disconnected="-22d", last_sync="-23d"))
    assert (r["status"], r["reason"]) == ("fail", "skilljar.backfill_window_passed")
    assert r["evidence"]["days_left"] < 0
    for words in ("Skilljar Support", "disconnect date", "Last Sync Date", "org Id (00D", "skilljar.sync@"):
        assert words in r["resolution"], words


def test_reconnected_after_the_disconnect_backfill_is_the_next_click(check_json, scenario_file) -> None:
    r = _window(check_json, _skilljar(scenario_file, disconnected="-5d", last_sync="-6d", reconnected="-1h"))
    assert r["status"] == "pass" and "click Backfill" in r["summary"] and "Reconnect" not in r["summary"]
    assert r["evidence"]["connected"] is True and r["evidence"]["reconnected_at"]


@pytest.mark.parametrize("last_sync,earliest", [("-9d", True), (None, False)])
def test_without_a_disconnect_time_the_admin_is_asked(scenario_file, last_sync, earliest) -> None:
    path = _skilljar(scenario_file, disconnected="-8d", last_sync=last_sync or "-8d")
    with open_demo(path) as conn:
        ctx = conn.context(disconnected_at=None)  # as the wizard starts: nobody has read the alert yet
        if last_sync is None:
            ctx.memo("skilljar_last_sync", lambda: None)
        (r,) = conn.client.run_checks(ctx, only=["skilljar.backfill_window"])
    assert (r.status.value, r.reason) == ("manual", "ask.disconnect_date")
    assert "alert" in r.summary and r.evidence["disconnected_at"] is None
    assert ("earliest_deadline" in r.evidence) is earliest


def test_the_demo_reads_the_disconnect_off_the_dashboard_alert(check_json) -> None:
    r = _window(check_json, "skilljar-recent")
    assert r["status"] == "pass" and 11.5 < r["evidence"]["days_left"] < 12.5
