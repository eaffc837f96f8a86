"""The wizard off the happy path, each as a stranger met it (issue: "The wizard off the happy path"): the Skilljar
mapping path, the wrong org fixed by signing in again, Esc during a sign-in wait, a confirmation typed fast and a
search retyped fast. Each drives the demo by key and asserts on what a person sees and what the session keeps."""

from __future__ import annotations

from typing import Any

import pytest
from sfwizard.screens.app import WizardApp

from sfwizard.cli import WizardOptions

SIZE = (100, 32)



def burst(app: Any, keys: str | list[str]) -> None:
    """Keys as a terminal delivers a fast typist's burst: all queued at once, none waited for."""
    from textual import events

    for key in keys:
        name = {" ": "space", "\n": "enter"}.get(key, key)
        character = {"\n": "\r"}.get(key, key if len(key) == 1 else None)  # what a terminal's Enter sends
        event = events.Key(name, character)
        event.set_sender(app)
        app._driver.send_message(event)


def shown(app: Any) -> str:
    """The text a person sees now: every Static laid out on the active screen."""
    from textual.widgets import Static

    return "\n".join(str(w.render()) for w in app.screen.query(Static) if w.region.area > 0)


async def to_connect(d) -> None:  # noqa: ANN001
    await d.settled("before")
    await d.confirm("Avery Admin")
    await d.gate_open("before", 20)
    await d.next("connect")


async def sign_in(d) -> None:  # noqa: ANN001
    await d.press("1")
    await d.until(lambda: "Open this URL" in shown(d.app), "the sign-in URL", 20)
    await d.press("v")
    await d.until(lambda: d.rec.signed_in is not None and d.idle(), "the sign-in", 30)


@pytest.mark.usefixtures("fast_waits")
def test_skilljar_mappings_read_off_the_dashboard_then_saved_never_crash(driver_for) -> None:
    """Skilljar step 4: `v` (read the dashboard) then `w` (save) once gave DuplicateIds, then a traceback."""
    app = WizardApp(WizardOptions(demo=True, scenario="skilljar-recent"))

    async def body(d) -> None:  # noqa: ANN001
        await to_connect(d)
        await sign_in(d)
        await d.gate_open("connect", 30)
        await d.next("impact")
        await d.next("mappings")
        await d.settled("mappings")
        for _ in range(2):  # read it off twice: the form is filled again, not duplicated
            await d.press("v")
            await d.until(lambda: d.idle(), "the reading", 30)
        await d.press("w")
        await d.gate_open("mappings", 30)
        assert d.rec.navigator.has_fact("snapshot_saved")
        assert not [s for s in d.said if "unexpected error" in s], d.said

    driver_for.run(app, body)
    assert app.return_code in (None, 0)


async def advance(d) -> None:  # noqa: ANN001
    """One step on, as a person would: Next where it is open, else Skip with a reason (mappings: save first)."""
    step = d.rec.navigator.current_id
    await d.until(lambda: d.idle() or step == "reauthorize", f"{step} to settle", 30)
    if step == "mappings" and getattr(d.rec, "snapshot_elsewhere", lambda: None)() is not None:
        await d.press("t")  # the snapshot is of the org signed in to before: taken again here
        await d.until(lambda: d.idle() and not d.rec.navigator.has_fact("snapshot_saved"), "the retake", 30)
    if step == "mappings" and not d.rec.navigator.has_fact("snapshot_saved"):
        await d.press("w")
        await d.until(lambda: d.rec.navigator.has_fact("snapshot_saved") and d.idle(), "the save", 30)
    if d.rec.navigator.gate(step).open:
        await d.press("n")
    else:
        await d.press("s")
        await d.dialog("SkipDialog")
        await d.type("to look ahead")
        await d.press("tab")
        await d.type("Avery")
        await d.press("enter")
    await d.until(lambda: d.rec.navigator.current_id != step, f"leaving {step}", 20)


@pytest.mark.usefixtures("fast_waits")
def test_the_right_org_after_the_wrong_one_leaves_nothing_of_the_wrong_one(driver_for) -> None:
    """wrong-org: the wizard's own sign-in lands in the UAT sandbox; signing in again to production must leave no
    result, lock or word about the sandbox on the steps after it."""
    app = WizardApp(WizardOptions(demo=True, scenario="wrong-org"))

    async def body(d) -> None:  # noqa: ANN001
        await to_connect(d)
        await sign_in(d)
        wrong = d.rec.signed_in.org_name
        assert d.rec.signed_in.kind == "SANDBOX"
        while d.rec.navigator.current_id != "reauthorize":
            await advance(d)
        await d.until(lambda: d.rec.navigator.gate("reauthorize").code != "check.not_run", "re-authorize to look",
                      30)
        # the fix: back to Connect, sign in again to the right org
        while d.rec.navigator.current_id != "connect":
            await d.press("b")
            await d.pilot.pause(0.05)
        await d.until(lambda: d.idle(), "connect to settle", 20)
        await sign_in(d)
        assert d.rec.signed_in.kind == "PRODUCTION"
        while True:
            step = d.rec.navigator.current_id
            await d.until(lambda step=step: d.idle() or step == "reauthorize", f"{step} to settle", 30)
            if step == "reauthorize":
                await d.until(lambda: d.rec.navigator.gate("reauthorize").code != "check.not_run",
                              "re-authorize to look", 30)
            await d.pilot.pause(0.2)
            text = shown(d.app)
            # nothing on screen says the wizard is signed in to the old org (it may name it as the snapshot's)
            for stale in (f"signed in to {wrong}", f"connected to a SANDBOX org: {wrong}",
                          f"signed in to a SANDBOX: {wrong}"):
                assert stale not in text, (step, stale, text)
            basis = d.rec.basis()
            for cid in d.rec.step_checks(step):
                r = d.rec.navigator.results.get(cid)
                assert r is None or d.rec.navigator.stands(cid, basis, d.rec.session.result_basis.get(cid)), cid
            gate = d.rec.navigator.gate(step).reason
            assert f"signed in to {wrong}" not in gate, (step, gate)
            pane = getattr(d.app, "frame", None) and d.app.frame.pane
            if step == "mappings" and pane is not None:  # its row problems judged in the org signed in to now
                assert pane.problems_for is None or pane.problems_for[0] == d.rec.signed_in.org_id
            if step == "reauthorize":
                break
            await advance(d)

    driver_for.run(app, body)


def test_escape_during_the_sign_in_wait_leaves_a_clean_screen(driver_for) -> None:
    app = WizardApp(WizardOptions(demo=True, scenario="revoked-token"))

    async def body(d) -> None:  # noqa: ANN001
        await to_connect(d)
        await d.press("1")
        await d.until(lambda: "Open this URL" in shown(d.app), "the sign-in URL", 20)
        await d.press("escape")
        await d.until(lambda: d.idle(), "the wait to stop", 20)
        await d.pilot.pause(0.1)
        assert "Open this URL" not in shown(d.app)
        assert "approve" not in " ".join(str(b.binding.description).lower()
                                         for b in d.app.screen.active_bindings.values() if b.enabled)
        await d.press("v")  # nothing to approve any more: nothing happens, no error
        await d.pilot.pause(0.3)
        assert not [s for s in d.said if "could not" in s.lower()], d.said
        await sign_in(d)  # the step can be started again
        assert d.rec.signed_in is not None

    driver_for.run(app, body)


def test_a_confirmation_typed_fast_records_the_name_as_typed(driver_for) -> None:
    """c, a name, Enter and more keys in one burst: the name is what was typed before Enter."""
    app = WizardApp(WizardOptions(demo=True, scenario="revoked-token"))

    async def body(d) -> None:  # noqa: ANN001
        await d.settled("before")
        burst(d.app, ["c", *"Speedy", "\n", *"n1vnnvw"])
        await d.until(lambda: d.rec.navigator.confirmed("before.people") is not None, "the confirmation", 20)
        assert d.rec.navigator.confirmed("before.people")["who"] == "Speedy"

    driver_for.run(app, body)


@pytest.mark.usefixtures("fast_waits")
def test_a_search_retyped_fast_searches_what_was_typed_last(driver_for) -> None:
    from sfwizard.recovery.wizard import Recovery

    searched: list[str | None] = []
    real = Recovery.run_checks

    def spy(self, ids, **kw):  # noqa: ANN001, ANN003, ANN202
        if "knowledge.search" in list(ids):
            searched.append(self.known_article)
        return real(self, ids, **kw)

    app = WizardApp(WizardOptions(demo=True, scenario="revoked-token"))

    async def body(d) -> None:  # noqa: ANN001
        await to_connect(d)
        await sign_in(d)
        rec = d.rec
        # straight to Knowledge: the steps before it are not at issue here
        for step in ("before", "connect", "impact", "mappings", "security", "reauthorize", "sync", "validate"):
            if step not in rec.session.completed:
                rec.session.completed.append(step)
        Recovery.run_checks = spy  # type: ignore[method-assign]
        go = getattr(d.app, "go", None) or d.app.frame.go_to  # the wizard's own "go to a reached step"
        rec.navigator.go_to("knowledge")
        go("knowledge")
        await d.until(lambda: rec.navigator.current_id == "knowledge" and d.idle()
                      and bool(d.app.screen.query("#title")), "knowledge", 30)
        field = d.app.screen.query_one("#title")
        field.focus()
        await d.pilot.pause()
        searched.clear()
        burst(d.app, ["ctrl+u", *"Conn", "\n", "ctrl+u", *"Reset your password", "\n"])
        await d.until(lambda: bool(searched) and searched[-1] == "Reset your password" and d.idle(),
                      "the last search", 20)
        await d.pilot.pause(0.5)
        assert searched[-1] == "Reset your password", searched
        assert rec.known_article == "Reset your password"

    try:
        driver_for.run(app, body)
    finally:
        Recovery.run_checks = real  # type: ignore[method-assign]


def test_the_state_moving_while_the_settings_pane_exists_never_crashes(driver_for) -> None:
    """Found by the random walk: a sign-in after the settings pane had been opened (g) made every pane redraw,
    the settings pane too — which is no step, and the redraw asked for its checks (KeyError, the wizard down)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from canned import CannedRecovery

    rec = CannedRecovery("gainsight-px", "before")
    app = WizardApp(recovery=rec)

    async def body(d) -> None:  # noqa: ANN001
        await d.until(lambda: app.frame.pane is not None and app.frame.pane.ready, "step 1", 10)
        await d.press("g")
        await d.until(lambda: app.frame.in_settings and app.frame.pane.ready, "the settings", 10)
        await d.press("escape")
        await d.until(lambda: app.frame.step == "before", "back on step 1", 10)
        rec.changed()  # as a new sign-in does
        await d.pilot.pause(0.2)
        assert app.is_running and app._exception is None

    driver_for.run(app, body)
