"""The wizard's behaviour, one promise at a time, on canned results (no sandbox): Next locked with its reason,
skips recorded, Escape stopping a wait, resume offered, quit confirmed while busy, server text shown as text,
the command palette's commands."""

from __future__ import annotations

import asyncio

import pytest
from canned import WHO, CannedRecovery
from sfwizard.screens.app import WizardApp

from sfwizard.cli import WizardOptions
from sfwizard.recovery.session import RecoverySession

SIZE = (100, 32)


def run(app: WizardApp, body) -> None:  # noqa: ANN001
    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await body(pilot)

    asyncio.run(main())


async def until(pilot, cond, what: str, limit: float = 10.0) -> None:  # noqa: ANN001
    for _ in range(int(limit / 0.02)):
        if cond():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"waited for {what}")


OTHER_USER = {"token.fresh": ("fail", "token.other_user", "Gainsight PX's token belongs to jo@northwind.example, "
                                "not the integration user", "the connection was approved by a different user",
                                "authorize again logged in as the integration user")}


def test_next_stays_locked_with_the_reason_shown_and_n_is_refused() -> None:
    rec = CannedRecovery("gainsight-px", "reauthorize", overrides=OTHER_USER)
    app = WizardApp(recovery=rec)

    async def body(pilot) -> None:  # noqa: ANN001
        await until(pilot, lambda: rec.navigator.gate("reauthorize").code == "check.failed", "the gate")
        frame = app.frame
        await until(pilot, lambda: "Next is locked" in str(frame.query_one("#gate").content), "the gate bar")
        assert frame.query_one("#next").disabled
        gate_text = str(frame.query_one("#gate").content)
        assert "Next is locked" in gate_text and "belongs to jo@northwind.example" in gate_text
        assert frame.check_action("next", ()) is None  # greyed in the footer, not hidden
        await pilot.press("n")
        await pilot.pause()  # the key handled
        assert frame.step == "reauthorize"  # still here

    run(app, body)


def test_before_anyone_clicks_authorize_the_token_checks_wait_not_fail() -> None:
    """Pending is not failing: with no click yet, "no token granted" is what the wizard waits for — no red row, no
    cause and fix; once the person says they clicked, the same finding is red."""
    rec = CannedRecovery("gainsight-px", "reauthorize")
    rec.demo = None
    rec.vendor = None
    rec.demo_scenario = None  # a real run: the wizard cannot see the click, the person says it
    app = WizardApp(recovery=rec)

    async def body(pilot) -> None:  # noqa: ANN001
        await until(pilot, lambda: rec.navigator.gate("reauthorize").code == "action.pending", "the wait")
        pane = app.frame.pane
        await pilot.pause()
        table = pane.query_one("#checks")
        assert table.get_cell("token.fresh", "status").plain == "wait"
        assert "Waiting" in str(app.frame.query_one("#gate").content)
        assert pane.query_one("#fixes").text == ""  # no cause and fix for what nobody tried yet
        await pilot.press("a")  # "we clicked Authorize and Allow"
        await until(pilot, lambda: rec.navigator.gate("reauthorize").code == "check.failed", "the finding")
        await until(pilot, lambda: table.get_cell("token.fresh", "status").plain == "FAIL", "the red row")
        assert "never completed" in pane.query_one("#fixes").text

    run(app, body)


def test_a_skip_needs_a_reason_and_records_who_and_why() -> None:
    rec = CannedRecovery("gainsight-px", "reauthorize")
    app = WizardApp(recovery=rec)

    async def body(pilot) -> None:  # noqa: ANN001
        await until(pilot, lambda: rec.navigator.gate("reauthorize").code == "action.pending", "the gate")
        await pilot.press("s")
        await until(pilot, lambda: type(app.screen).__name__ == "SkipDialog" and app.focused is not None, "dialog")
        await pilot.press("enter")  # nothing typed: refused
        await until(pilot, lambda: "needed" in str(app.screen.query_one("#problem").content), "the refusal")
        assert type(app.screen).__name__ == "SkipDialog"
        await pilot.press(*"the Salesforce admin joins tomorrow", "tab", *"Avery", "enter")
        await until(pilot, lambda: app.frame.step == "sync", "the next step")

    run(app, body)
    skip = rec.session.skips[-1]
    assert (skip["step"], skip["reason"], skip["who"]) == ("reauthorize", "the Salesforce admin joins tomorrow",
                                                           "Avery")
    saved = RecoverySession.load(rec.session.id, lock=False)
    assert saved.skips[-1]["reason"] == "the Salesforce admin joins tomorrow"  # saved as it happened
    saved.release()


async def _waiting_for_the_browser(pilot) -> None:  # noqa: ANN001
    """On Connect, the browser sign-in started (1) and waiting for the person's browser."""
    app = pilot.app
    await until(pilot, lambda: app.frame.step == "connect" and not app.frame.pane.busy
                and app.frame.pane.choices is not None, "the step and its ways to sign in")
    await pilot.press("1")  # the browser (the demo offers only what works there)
    await until(pilot, lambda: bool(app.frame.pane.url) and app.frame.pane.workers_running(), "the wait")


def test_escape_stops_a_sign_in_that_waits_for_the_browser() -> None:
    rec = CannedRecovery("gainsight-px", "connect", signed_in=False)
    app = WizardApp(recovery=rec)

    async def body(pilot) -> None:  # noqa: ANN001
        await _waiting_for_the_browser(pilot)
        pane = app.frame.pane
        assert "waiting for the browser" in pane.busy
        await pilot.press("escape")
        await until(pilot, lambda: not pane.workers_running(), "the stop")
        assert pane.busy == "" and pane.url == ""
        assert not pane.query_one("#waiting").display  # the URL and its note are gone
        assert app.frame.check_action("vendor", ()) is False

    run(app, body)
    assert rec.signed_in is None


def test_server_text_is_shown_as_text_never_as_markup() -> None:
    rec = CannedRecovery("gainsight-px", "validate", overrides={
        "flow.salesforce_to_platform": ("fail", "flow.stale", "[bold red]3 of 5[/] [link=x]stale", "c", "f")})
    rec._signed_in = type(WHO)(**{**WHO.to_dict(), "org_name": "[reverse]Acme[/reverse] \x1b[31m"})
    app = WizardApp(recovery=rec)

    async def body(pilot) -> None:  # noqa: ANN001
        await until(pilot, lambda: "flow.salesforce_to_platform" in rec.navigator.results
                    and "Acme" in app.frame.query_one("#header").org_text, "results")
        await pilot.pause()  # the results drawn
        header = app.frame.query_one("#header").org_text
        assert "[reverse]Acme[/reverse]" in header and "\x1b" not in header
        cell = app.frame.pane.query_one("#checks").get_cell("flow.salesforce_to_platform", "summary")
        assert cell.plain == "[bold red]3 of 5[/] [link=x]stale"

    run(app, body)


def test_an_unfinished_session_is_offered_for_resume(monkeypatch: pytest.MonkeyPatch) -> None:
    old = RecoverySession.new("gainsight-px")
    old.step = "mappings"
    old.completed = ["before", "connect", "impact"]
    old.save()
    old.release()
    booted: list[bool] = []

    def boot(app, resume: bool):  # noqa: ANN001, ANN202
        booted.append(resume)
        session = RecoverySession.latest("gainsight-px", demo=False, unfinished=True) if resume else \
            RecoverySession.new("gainsight-px")
        rec = CannedRecovery("gainsight-px", "before", done_before=False)
        rec.session.release()
        rec.session = session
        rec.navigator.session = session
        return rec

    app = WizardApp(WizardOptions(), boot=boot)

    async def body(pilot) -> None:  # noqa: ANN001
        await until(pilot, lambda: type(app.screen).__name__ == "ChoiceDialog"
                    and any(b.id == "resume" and b.region.width for b in app.screen.query("Button")),
                    "the resume question, laid out")
        text = " ".join(str(s.content) for s in app.screen.query("Static"))
        assert "mappings" in text and "3 step(s) done" in text
        await pilot.click("#resume")
        await until(pilot, lambda: app.recovery is not None and app.frame.step == "mappings", "the resumed step")

    run(app, body)
    assert booted == [True]


def test_quitting_while_work_is_in_flight_asks_first() -> None:
    rec = CannedRecovery("gainsight-px", "connect", signed_in=False)
    app = WizardApp(recovery=rec)

    async def body(pilot) -> None:  # noqa: ANN001
        await _waiting_for_the_browser(pilot)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: type(app.screen).__name__ == "ChoiceDialog", "the question")
        await pilot.click("#stay")
        await until(pilot, lambda: app.screen is app.frame, "back on the step")
        assert app.is_running
        rec.cancel()
        await until(pilot, lambda: not app.frame.pane.workers_running(), "the stop")
        await pilot.press("ctrl+q")  # nothing in flight: quits at once
        await until(pilot, lambda: not app.is_running, "the exit")

    run(app, body)


def test_the_command_palette_offers_the_steps_commands() -> None:
    rec = CannedRecovery("gainsight-px", "validate")
    app = WizardApp(recovery=rec)

    async def body(pilot) -> None:  # noqa: ANN001
        await until(pilot, lambda: app.frame.step == "validate" and not app.frame.pane.busy, "the step")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for wanted in ("Re-run checks", "Export report", "Switch theme (dark/light)", "Open the runbook section"):
            assert wanted in titles
        dark = app.current_theme.dark
        await pilot.press("ctrl+t")
        await until(pilot, lambda: app.current_theme.dark is not dark, "the other theme")
        await pilot.press("f1")
        await until(pilot, lambda: type(app.screen).__name__ == "TextDialog", "the runbook")
        assert "PX_ prefix" in str(app.screen.query("Static").last().content)

    run(app, body)


def test_leaving_a_watching_step_stops_its_wait() -> None:
    rec = CannedRecovery("gainsight-px", "connect", signed_in=False)
    app = WizardApp(recovery=rec)

    async def body(pilot) -> None:  # noqa: ANN001
        await _waiting_for_the_browser(pilot)
        connect = app.frame.pane
        await pilot.press("b")  # back to Before you begin
        await until(pilot, lambda: app.frame.step == "before", "the step before")
        await until(pilot, lambda: not connect.workers_running(), "the wait to end")
        assert connect.url == ""  # no stale URL waits there for a return

    run(app, body)


def test_the_step_list_is_rebuilt_when_the_state_moves_and_only_then() -> None:
    rec = CannedRecovery("gainsight-px", "reauthorize")
    app = WizardApp(recovery=rec)

    async def body(pilot) -> None:  # noqa: ANN001
        await until(pilot, lambda: rec.navigator.gate("reauthorize").code == "action.pending", "the gate")
        frame = app.frame
        steps = frame.query_one("#steps")
        built = steps.get_option("sync")
        frame.render_frame()  # nothing moved: the same options, not rebuilt
        assert steps.get_option("sync") is built
        rec.navigator.skip("the Salesforce admin joins tomorrow", "Avery")
        frame.step = "sync"
        frame.render_frame()  # the state moved: shown at once, in the same frame
        assert str(steps.get_option("reauthorize").prompt).startswith("–")
        assert str(steps.get_option("sync").prompt).startswith("▶") and not steps.get_option("sync").disabled

    run(app, body)


def test_next_and_back_pressed_fast_while_checks_end_never_crash() -> None:
    """A step's checks that end while the next step's screen is still being built once crashed the wizard
    (the frame was redrawn on a screen whose widgets were not all there yet)."""
    rec = CannedRecovery("gainsight-px", "impact")
    app = WizardApp(recovery=rec)

    async def body(pilot) -> None:  # noqa: ANN001
        await until(pilot, lambda: app.frame.step == "impact" and rec.navigator.gate("impact").open, "the step")
        for _ in range(5):
            await pilot.press("n", "b")
        await pilot.pause()
        assert app.is_running

    run(app, body)


def test_the_key_bar_shows_the_panes_keys_keeps_quit_at_the_right_and_a_click_runs_a_key() -> None:
    """One line of text, redrawn only when the keys change: at 80 columns Quit keeps the right edge, a key that
    cannot be used is drawn dim (greyed, not hidden), and clicking a key does what pressing it does."""
    from sfwizard.screens.widgets import KeyBar

    rec = CannedRecovery("gainsight-px", "mappings")
    app = WizardApp(recovery=rec)

    async def body(pilot) -> None:  # noqa: ANN001
        frame = app.frame
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: frame.pane is not None and frame.pane.ready and frame.step == "mappings", "step 4")
        bar = frame.query_one(KeyBar)
        await until(pilot, lambda: any(k.description == "Add row" for k in bar.keys), "the pane's keys")
        line = bar.render()
        assert line.plain.rstrip().endswith("^q Quit") and line.cell_len == 80
        assert line.plain.index("Add row") < line.plain.index("Next")  # the pane's keys first
        assert "…" in line.plain  # the keys that do not fit end in an ellipsis (F1 lists them)
        drawn = bar.keys
        frame.render_frame()  # nothing changed: the same keys, not a new tuple
        await pilot.pause()
        assert bar.keys is drawn
        assert not next(k for k in bar.keys if k.description == "Next").enabled  # locked: greyed
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        line = bar.render()
        back = line.plain.index(" b Back")
        await pilot.click(KeyBar, offset=(back + 2, 0))
        await until(pilot, lambda: frame.step == "impact", "Back, clicked")
        await until(pilot, lambda: not any(k.description == "Add row" for k in bar.keys), "step 3's keys")

    run(app, body)
