"""What the wizard's tests share: a pilot that drives the wizard the way the two admins do, by key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


class Driver:
    """Presses keys and waits for what a person would wait for (a step's checks, a dialog) — never a fixed sleep
    for timing: every wait polls a condition, with a generous limit so a loaded machine is not a failure."""

    def __init__(self, app: Any, pilot: Any) -> None:
        self.app, self.pilot = app, pilot
        self.keys = 0
        self.said: list[str] = []  # every notification, kept (the screen's own fade after seconds)
        notify = app.notify

        def keep(message: str, *args: Any, **kwargs: Any) -> None:
            self.said.append(str(message))
            notify(message, *args, **kwargs)

        app.notify = keep

    @classmethod
    def run(cls, app: Any, body: Callable[[Driver], Any], size: tuple[int, int] = (100, 32)) -> None:
        """Run the wizard headless at ``size`` and let ``body(driver)`` walk it."""
        import asyncio

        async def main() -> None:
            async with app.run_test(size=size) as pilot:
                await body(cls(app, pilot))

        asyncio.run(main())

    async def demo_sign_in(self) -> None:
        """Step 1 confirmed, then step 2's browser sign-in, approved by the demo's stand-in (v)."""
        await self.settled("before")
        await self.confirm("Avery")
        await self.next("connect")
        await self.press("1")
        await self.until(lambda: bool(self.pane.url), "the sign-in URL", 20)
        await self.press("v")
        await self.until(lambda: self.rec.signed_in is not None, "the sign-in", 30)

    @property
    def rec(self) -> Any:
        return self.app.recovery

    @property
    def frame(self) -> Any:
        return self.app.frame

    @property
    def pane(self) -> Any:
        return self.app.frame.pane

    @property
    def step(self) -> str:
        """The step in view (the frame's pane), "" before the recovery is up."""
        try:
            return self.app.frame.step if self.rec is not None else ""
        except LookupError:
            return ""

    async def until(self, cond: Callable[[], bool], what: str, limit: float = 60.0) -> None:
        for _ in range(int(limit / 0.05)):
            if cond():
                return
            await self.pilot.pause(0.05)
        said = self.said[-6:]
        workers = [(w.group, w.state.name) for w in self.app.workers]
        raise AssertionError(f"waited {limit:.0f} s for {what}; on step {self.step!r}, gate "
                             f"{self.rec.navigator.gate() if self.rec else None}; said {said}; workers {workers}")

    def idle(self) -> bool:
        """Nothing in flight: no check, click or save (the whole app's workers but the boot; a watch that goes on
        while its step is in view — the Security review's — counts as idle between its looks)."""
        from textual.worker import WorkerState

        return not any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) and w.group != "boot"
                       and not (w.group == "watch" and getattr(w.node, "STEP", "") == "security")
                       for w in self.app.workers)

    async def settled(self, step: str, limit: float = 60.0) -> None:
        """On ``step``, its checks run (or it has none) and nothing still working."""
        def ready() -> bool:
            if self.rec is None or self.step != step or not self.idle() or not self.rec.ready.is_set():
                return False
            return self.rec.navigator.gate(step).code != "check.not_run" or not self.rec.step_checks(step)
        await self.until(ready, f"step {step} to settle", limit)

    async def looked(self, step: str, limit: float = 60.0) -> None:
        """A watching step (Re-authorize) has looked at least once (it keeps watching until its gate opens)."""
        await self.until(lambda: self.rec is not None and self.step == step
                         and self.rec.navigator.gate(step).code != "check.not_run", f"{step} to look", limit)

    async def press(self, *keys: str) -> None:
        self.keys += len(keys)
        await self.pilot.press(*keys)

    async def type(self, text: str) -> None:
        """Typing a name into a field counts as one action, not a key per letter."""
        self.keys += 1
        await self.pilot.press(*text)

    async def dialog(self, name: str) -> None:
        await self.until(lambda: type(self.app.screen).__name__ == name and self.app.focused is not None,
                         f"the {name}", 10)

    async def confirm(self, who: str = "") -> None:
        """Press c, then Enter in the dialog (the name typed the first time is offered again)."""
        await self.press("c")
        await self.dialog("ConfirmDialog")
        if who:
            await self.type(who)
        await self.press("enter")
        await self.until(lambda: type(self.app.screen).__name__ != "ConfirmDialog", "the dialog to close", 10)

    async def security(self, who: str = "") -> None:
        """The Security review (before Re-authorize): read, what only a person can say confirmed, then Next."""
        await self.until(lambda: self.step == "security", "the security step", 20)
        await self.until(lambda: self.rec.navigator.gate("security").code != "check.not_run" and self.idle(),
                         "the review", 60)
        for _ in range(10):
            if self.rec.navigator.gate("security").open:
                break
            await self.confirm(who)
            await self.until(lambda: self.idle(), "the review", 30)
        await self.gate_open("security", 30)

    async def next(self, to: str) -> None:
        await self.until(lambda: self.rec.navigator.gate(self.step).open and self.idle(), f"{self.step}'s gate", 90)
        await self.press("n")
        await self.until(lambda: self.step == to, f"step {to}", 20)

    async def gate_open(self, step: str, limit: float = 90.0) -> None:
        await self.until(lambda: self.rec.navigator.gate(step).open and self.idle(), f"the {step} gate", limit)


@pytest.fixture
def fast_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The watching steps look every few seconds for people; a test looks often."""
    from sfwizard.screens import reauthorize, security, sync

    monkeypatch.setattr(reauthorize.Step, "INTERVAL", 0.2)
    monkeypatch.setattr(sync.Step, "INTERVAL", 0.2)
    monkeypatch.setattr(security.Step, "INTERVAL", 0.3)


@pytest.fixture
def driver_for() -> Callable[[Any, Any], Driver]:
    return Driver
