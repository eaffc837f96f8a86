"""Skilljar's one cliff, the 21-day Backfill window: on the Impact step and in the header from the moment the
disconnect is known (the demo reads the dashboard's alert at sign-in), its deadline in local time and UTC, and the
disconnect time corrected by the person (t) — the window, the header and the checks judged on it follow."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sfwizard.screens.app import WizardApp

from sfwizard.cli import WizardOptions


def test_the_window_shows_from_the_sign_in_and_the_disconnect_time_can_be_corrected(driver_for) -> None:
    app = WizardApp(WizardOptions(demo=True, scenario="skilljar-recent"))

    async def body(d: Any) -> None:
        await d.demo_sign_in()
        await d.next("impact")
        w = d.rec.backfill_window()
        assert w is not None and w.level == "ok" and timedelta(days=11) < w.remaining < timedelta(days=13)
        header = d.frame.query_one("#header")
        assert header._window[0].startswith("Backfill 1") and "left" in header._window[0]
        card = str(d.pane.query_one("#deadline").render())
        assert "Backfill deadline" in card and "left" in card
        # the person corrects the disconnect time off the dashboard's alert: 20 days ago — under a day left
        earlier = (w.disconnected_at - timedelta(days=11)).astimezone()
        await d.press("t")
        await d.dialog("DisconnectDialog")
        await d.press("ctrl+u")
        await d.type(f"{earlier:%Y-%m-%d %H:%M}")
        await d.press("enter")
        await d.until(lambda: d.rec.backfill_window().level == "red", "the window judged again", 10)
        await d.pilot.pause(0.2)
        assert header._window[1] == "red"
        assert "skilljar.backfill_window" not in d.rec.navigator.results  # judged on the old time: dropped
        assert "typed" in str(d.pane.query_one("#deadline").render())

    async def main() -> None:
        async with app.run_test(size=(100, 32)) as pilot:
            await body(driver_for(app, pilot))

    asyncio.run(main())
