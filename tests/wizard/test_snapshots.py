"""A picture of every screen at a fixed size, from canned results and a fixed clock (pytest-textual-snapshot).

Regenerate after a deliberate change with ``pytest tests/wizard/test_snapshots.py --snapshot-update`` and look
at the SVGs in ``__snapshots__/`` before committing them.
"""

from __future__ import annotations

import time

import pytest
from canned import CannedRecovery
from sfwizard.screens.app import WizardApp

SIZE = (100, 32)
PX_STEPS = ["before", "connect", "impact", "mappings", "security", "reauthorize", "sync", "validate", "knowledge",
            "troubleshoot", "checklist", "report"]
SKILLJAR_STEPS = ["impact", "mappings", "reauthorize", "sync", "checklist"]


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local times are shown beside GMT: pin the zone so the pictures are the same on every machine."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.delenv("TZ")
    time.tzset()


async def _still(pilot) -> None:  # noqa: ANN001
    """Wait for the step's work to end, then stop everything that moves (cursors)."""
    app = pilot.app
    app.animation_level = "none"  # an indeterminate bar drawn still, as with TEXTUAL_ANIMATIONS=none
    for _ in range(200):
        await pilot.pause(0.02)
        pane = app.frame.pane if app.recovery is not None else None
        if pane is not None and pane.ready and not pane.workers_running():
            break
    from textual.widgets import Input

    for field in app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause(0.1)


def _app(profile: str, step: str, **kw) -> WizardApp:  # noqa: ANN003
    return WizardApp(recovery=CannedRecovery(profile, step, **kw))


@pytest.mark.parametrize("step", PX_STEPS)
def test_every_gainsight_px_screen(snap_compare, step: str) -> None:
    assert snap_compare(_app("gainsight-px", step), terminal_size=SIZE, run_before=_still)


@pytest.mark.parametrize("step", ["sync", "checklist"])
def test_skilljar_screens(snap_compare, step: str) -> None:
    assert snap_compare(_app("skilljar", step), terminal_size=SIZE, run_before=_still)


@pytest.mark.parametrize("step", PX_STEPS)
def test_every_gainsight_px_step_at_80_by_24(snap_compare, step: str) -> None:
    """The smallest size the wizard works at: every step usable, the org and Quit kept."""
    assert snap_compare(_app("gainsight-px", step), terminal_size=(80, 24), run_before=_still)


@pytest.mark.parametrize("step", SKILLJAR_STEPS)
def test_skilljar_steps_at_80_by_24(snap_compare, step: str) -> None:
    assert snap_compare(_app("skilljar", step), terminal_size=(80, 24), run_before=_still)


def test_the_settings_pane(snap_compare) -> None:
    async def settings(pilot) -> None:  # noqa: ANN001
        await _still(pilot)
        await pilot.press("g")
        for _ in range(100):
            await pilot.pause(0.02)
            if pilot.app.frame.in_settings and pilot.app.frame.pane.ready and pilot.app.frame.pane.form:
                break
        await _still(pilot)

    assert snap_compare(_app("gainsight-px", "before"), terminal_size=SIZE, run_before=settings)


def test_too_small_says_so(snap_compare) -> None:
    assert snap_compare(_app("gainsight-px", "before"), terminal_size=(70, 20), run_before=_still)


def test_connect_before_signing_in_shows_the_ways_and_the_url(snap_compare) -> None:
    async def sign_in(pilot) -> None:  # noqa: ANN001
        await _still(pilot)
        await pilot.press("1")
        for _ in range(100):
            await pilot.pause(0.02)
            if getattr(pilot.app.frame.pane, "url", ""):
                break
        await pilot.pause(0.1)

    app = _app("gainsight-px", "connect", signed_in=False)
    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=sign_in)
    finally:
        if app.recovery is not None:
            app.recovery.cancel()


def test_the_first_screen_at_80_by_24_in_the_light_theme(snap_compare) -> None:
    async def light(pilot) -> None:  # noqa: ANN001
        pilot.app.theme = "textual-light"
        await _still(pilot)

    assert snap_compare(_app("gainsight-px", "reauthorize"), terminal_size=(80, 24), run_before=light)


def test_no_color(snap_compare, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(_app("gainsight-px", "validate"), terminal_size=SIZE, run_before=_still)


def test_a_skip_asks_for_a_reason_and_a_name(snap_compare) -> None:
    async def skip(pilot) -> None:  # noqa: ANN001
        await _still(pilot)
        await pilot.press("s")
        await pilot.pause(0.2)

    assert snap_compare(_app("gainsight-px", "reauthorize"), terminal_size=SIZE, run_before=skip)


