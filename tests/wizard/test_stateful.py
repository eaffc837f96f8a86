"""The wizard walked at random, as people walk it: a Hypothesis state machine presses the keys and types the words a
person could, on every built-in scenario, both profiles, at 80x24 and 120x40, and checks the wizard's promises
after every key:

- it is still up, and nothing it said was an "unexpected error";
- the gate bar says what the navigator's gate says, for the step in view;
- the header names the org and the kind (PRODUCTION / SANDBOX) of the current sign-in;
- every result on screen is the current result of its check, judged on the current sign-in and snapshot.

The default run presses over 2,000 keys (22 walks); ``pytest -m slow`` presses over 20,000. A failure is shrunk by
Hypothesis to the fewest keys that show it; each one found became a named test (tests/wizard/test_off_path.py).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

SCENARIOS = ["healthy", "knowledge-off", "large-tenant", "missing-permissions", "push-missing-prefix",
             "revoked-token", "skilljar-expired", "skilljar-recent", "stale-data", "status-incident", "wrong-org"]
SIZES = [(80, 24), (120, 40)]
KEYS = ["n", "n", "n", "b", "s", "r", "c", "c", "v", "v", "v", "escape", "f1", "tab", "enter", "up", "down",
        "pageup", "pagedown", "1", "2", "3", "w", "a", "e", "d", "u", "t", "o", "y", "ctrl+t", "space", "g", "f5",
        "resize"]  # "resize": the terminal changes size (to the other of SIZES)
WORDS = ["Avery", "Speedy Admin", "the admin joins tomorrow", "2026-11-20 14:30", "Connect Salesforce", "x"]
# One rule, so Hypothesis's swarm testing never switches a kind of action off for a whole walk; its simplest walk
# (every draw the first) is the person who does what each step asks, to the end. About one action in five is that.
ACTIONS = ["step"] * 8 + KEYS + [f"words:{w}" for w in WORDS]


class Session:
    """The wizard under a pilot, in an event loop and a task of its own (Textual keeps its context per task); the
    state machine's plain-function rules hand it one step at a time and wait for it."""

    def __init__(self, app: Any, size: tuple[int, int]) -> None:
        import concurrent.futures

        self.app, self.size = app, size
        self.loop = asyncio.new_event_loop()
        self.ready: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),), daemon=True)
        self.thread.start()
        self.pilot = self.ready.result(120)

    async def _main(self) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        try:
            async with self.app.run_test(size=self.size) as pilot:
                self.ready.set_result(pilot)
                while True:
                    item = await self.queue.get()
                    if item is None:
                        break
                    step, done = item
                    try:
                        done.set_result(await step(pilot))
                    except BaseException as exc:  # noqa: BLE001 - handed to the rule that asked
                        done.set_exception(exc)
        except BaseException as exc:  # noqa: BLE001
            if not self.ready.done():
                self.ready.set_exception(exc)
            raise

    def run(self, step: Callable[[Any], Coroutine[Any, Any, Any]], timeout: float = 120) -> Any:
        import concurrent.futures

        done: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.loop.call_soon_threadsafe(self.queue.put_nowait, (step, done))
        return done.result(timeout)

    def close(self) -> None:
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.queue.put_nowait, None)
            self.thread.join(60)


class Walk(RuleBasedStateMachine):
    """One wizard, one scenario, one size: keys at random, the promises checked after each."""

    scenario = "revoked-token"
    size = (80, 24)
    seed = 0
    presses: list[int] = [0]  # shared counter, for the figure

    def __init__(self) -> None:
        super().__init__()
        from sfwizard.screens import reauthorize, sync
        from sfwizard.screens.app import WizardApp

        from sfwizard.cli import WizardOptions

        reauthorize.Step.INTERVAL = 1.0  # a watch looks every second (people's pace is 5 s): quick, not a load
        sync.Step.INTERVAL = 1.0
        import random

        self.rng = random.Random(f"{self.scenario}/{self.size}/{self.seed}")
        self.actions: list[str] = []  # what this walk did, for the failure's story
        self.said: list[str] = []
        self.read_off = False  # the demo's mapping screens read once
        self.app = WizardApp(WizardOptions(demo=True, scenario=self.scenario))
        notify = self.app.notify

        def keep(message: str, *args: Any, **kwargs: Any) -> None:
            self.said.append(str(message))
            notify(message, *args, **kwargs)

        self.app.notify = keep  # type: ignore[method-assign]
        self.session = Session(self.app, self.size)
        self.pilot = self.session.pilot
        self.session.run(self._up)

    async def _up(self, pilot: Any) -> None:
        for _ in range(400):  # up: the recovery built and step 1 on screen
            await pilot.pause(0.02)
            if self.app.recovery is not None and self.app.frame.pane is not None and self.app.frame.pane.ready:
                break

    def teardown(self) -> None:
        self.session.close()

    # -- the person ---------------------------------------------------------------------------------------------
    async def _settle(self, limit: float = 0.0) -> None:
        """Let the key's messages land; with ``limit``, also wait (that long at most) until nothing but a watch is
        running — the careful person. The impatient one presses on while work is in flight: the promises must
        hold mid-run too."""
        from textual.worker import WorkerState

        await self.pilot.pause()
        for _ in range(int(limit / 0.05)):
            busy = [w for w in self.app.workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)
                    and w.group not in ("boot", "watch")]
            if not busy:
                break
            await self.pilot.pause(0.05)

    async def _press(self, *keys: str) -> None:
        Walk.presses[0] += len(keys)
        if not self.app.is_running:
            return
        await self.pilot.press(*keys)
        await self._settle()

    @rule(pick=st.integers(min_value=0, max_value=len(ACTIONS) - 1))
    def act(self, pick: int) -> None:
        """One thing a person does: what the step asks ("step"), a key, a few words and Enter, or a resize. The
        action is ``pick`` offset by the walk's own seeded sequence: Hypothesis's first, simplest example (every
        pick 0) is then a random walk, not one key pressed over and over, and shrinking still removes steps."""
        action = ACTIONS[(pick + self.rng.randrange(len(ACTIONS))) % len(ACTIONS)]
        self.actions.append(action)
        if action == "step":
            self.session.run(lambda _pilot: self._purposeful())
        elif action == "resize":
            self.size = SIZES[1] if self.size == SIZES[0] else SIZES[0]
            size = self.size

            async def go(pilot: Any) -> None:
                await pilot.resize_terminal(*size)
                await self._settle()

            self.session.run(go)
        elif action.startswith("words:"):
            keys = [{" ": "space"}.get(ch, ch) for ch in action.removeprefix("words:")]
            self.session.run(lambda _pilot: self._press(*keys, "enter"))
        else:
            self.session.run(lambda _pilot: self._press(action))

    async def _purposeful(self) -> None:
        from sfwizard.screens.frame import WizardScreen

        await self._settle(limit=1.5)  # the careful person waits for the step's work first (a while)
        app, rec = self.app, self.app.recovery
        if rec is None:
            return await self._press("escape")
        if not isinstance(app.screen, WizardScreen):  # a dialog: answer it as a person would
            return await self._press(*"Avery", "enter")
        frame = app.frame
        pane = frame.pane
        if pane is None or not pane.ready:
            return await self._settle()
        if frame.in_settings:  # the settings pane (g): back to the step
            return await self._press("escape", "escape")
        if rec.navigator.gate(frame.step).open and frame.check_action("next", ()):
            return await self._press("n")
        if frame.step == "connect" and rec.signed_in is None:
            return await self._press("v" if getattr(pane, "url", "") else "1")
        if frame.step == "mappings" and not rec.navigator.has_fact("snapshot_saved"):
            first = rec.vendor is not None and not self.read_off and pane.draft is not None
            self.read_off = self.read_off or first
            return await self._press("v" if first else "w")
        if frame.step == "security" and frame.check_action("confirm", ()):
            return await self._press("c")  # what only a person can say of the review (then Avery, Enter)
        if frame.check_action("confirm", ()):
            return await self._press("c")
        if frame.check_action("vendor", ()):
            return await self._press("v")
        return await self._press("s")  # locked with nothing to do here: skip (the dialog asks why, and who)

    # -- the promises ---------------------------------------------------------------------------------------------
    @invariant()
    def still_up_and_no_unexpected_error(self) -> None:
        if self.pilot is None:
            return
        assert self.app.is_running, f"the wizard ended: {self.app.return_code}"
        assert self.app._exception is None, repr(self.app._exception)
        bad = [s for s in self.said if "unexpected error" in s.lower()]
        assert not bad, bad

    @invariant()
    def the_frame_agrees_with_the_state(self) -> None:
        if self.pilot is None:
            return
        self.session.run(lambda _pilot: self._agrees())

    async def _agrees(self) -> None:
        from sfwizard.screens.frame import WizardScreen
        from sfwizard.screens.widgets import CheckTable, flat

        app, rec = self.app, self.app.recovery
        if rec is None or not isinstance(app.screen, WizardScreen):
            return  # a dialog is up: the frame behind it is checked when it is in view again
        frame = app.frame
        pane = frame.pane
        if pane is None or not pane.ready or not frame.live:
            return
        # the header: the current sign-in's org and kind
        header = frame.query_one("#header")
        who = rec.signed_in
        if who is not None:
            assert header._parts[2] == flat(who.org_name) and header._parts[5] == who.kind, header._parts
        else:
            assert header._parts[5] == "", header._parts
        if frame.in_settings:
            return
        # the gate bar: what the recovery's lock says for the step in view (the navigator's gate, told whole)
        gate = rec.lock(frame.step)
        bar = frame.query_one("#gate")
        if not pane.busy:
            if gate.open:
                assert "ready" in str(bar.content), (frame.step, str(bar.content))
            else:
                assert bar.reason == flat(gate.reason), (frame.step, bar.reason, gate)
        # every result shown is the current one, judged on the current sign-in and snapshot
        basis = rec.basis()
        for table in pane.query(CheckTable):
            if not table.display:
                continue
            for row in table.rows:
                cid = str(row.value)
                status = table.get_cell(cid, "status").plain
                if status in ("…", "—"):
                    continue  # running, or not run yet
                r = rec.navigator.results.get(cid)
                assert r is not None, (frame.step, cid, status, "shown without a result")
                assert rec.navigator.stands(cid, basis, rec.session.result_basis.get(cid)), (cid, "stale")
                summary = table.get_cell(cid, "summary").plain
                assert summary == flat(pane.words(r)[0]), (cid, summary, r.summary)


def _walk(scenario: str, size: tuple[int, int], steps: int, seed: int | None) -> None:
    cls = type(f"Walk_{scenario.replace('-', '_')}_{size[0]}x{size[1]}", (Walk,),
               {"scenario": scenario, "size": size, "seed": seed or 0})
    test = cls.TestCase
    # One walk per wizard (a wizard and its sandbox take a second to start): Hypothesis's simplest example, made
    # random by the walk's seed (see ``act``); seeded, the default run is the same walk on every machine.
    from hypothesis import Phase

    test.settings = settings(max_examples=1, stateful_step_count=steps, deadline=None, database=None,
                             phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))
    test().runTest()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_random_walk_keeps_every_promise(scenario: str, size: tuple[int, int]) -> None:
    _walk(scenario, size, steps=int(os.environ.get("SFW_WALK_STEPS", "34")), seed=None)


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(10))
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_long_random_walk_keeps_every_promise(scenario: str, size: tuple[int, int], round_: int) -> None:
    _walk(scenario, size, steps=34, seed=1000 + round_)


def test_the_walks_press_enough_keys() -> None:
    """The figure the issue asks of the default run: over 2,000 keys across the scenarios (counted as they go)."""
    if Walk.presses[0] == 0:
        pytest.skip("run with the walks (the whole file) to count")
    print(f"key presses in the walks: {Walk.presses[0]}")
    assert Walk.presses[0] >= 2000, Walk.presses[0]
