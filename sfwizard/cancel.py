"""Cancellation and progress for long calls: checked between requests, reported as plain data."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


class Cancelled(Exception):
    """The caller cancelled; work stops at the next check, never mid-request."""


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    def reset(self) -> None:
        """Ready for the next job (a cancel stops the job under way, not the ones after it)."""
        self._event.clear()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled")

    def wait(self, seconds: float) -> None:
        """Sleep that a cancel interrupts at once (for backoff and polling)."""
        if self._event.wait(seconds):
            raise Cancelled("cancelled")


NEVER = CancelToken()  # a token nobody cancels, for callers that do not care


@dataclass(frozen=True)
class Progress:
    """One progress report; each replaces the previous one (a screen shows the latest)."""

    label: str
    done: int = 0
    total: int | None = None


ProgressFn = Callable[[Progress], None]


def no_progress(_: Progress) -> None:
    pass
