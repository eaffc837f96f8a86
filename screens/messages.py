"""Typed messages from workers to screens: results travel as data, never by touching widgets from a thread."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from sfwizard.cancel import Progress
    from sfwizard.checks.base import CheckResult
    from sfwizard.recovery.connection import SignedIn
    from sfwizard.recovery.navigator import Gate
    from sfwizard.recovery.wizard import Recovery, SyncStatus


class Booted(Message):
    """The recovery is set up (the demo's sandbox started, the session opened or resumed)."""

    def __init__(self, recovery: Recovery) -> None:
        super().__init__()
        self.recovery = recovery


class BootFailed(Message):
    def __init__(self, message: str, hint: str) -> None:
        super().__init__()
        self.message, self.hint = message, hint


class CheckFinished(Message):
    def __init__(self, result: CheckResult) -> None:
        super().__init__()
        self.result = result


class ChecksProgress(Message):
    """The latest progress; a newer one replaces an older one still queued."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, ChecksProgress)


class ChecksDone(Message):
    def __init__(self, results: list[CheckResult], ids: list[str] | None = None) -> None:
        super().__init__()
        self.results = results
        self.ids = list(ids) if ids is not None else [r.id for r in results]


class WatchRound(Message):
    def __init__(self, round_no: int, results: list[CheckResult], gate: Gate) -> None:
        super().__init__()
        self.round_no, self.results, self.gate = round_no, results, gate

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, WatchRound)


class SyncUpdate(Message):
    def __init__(self, status: SyncStatus) -> None:
        super().__init__()
        self.status = status

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SyncUpdate)


class SignInUrl(Message):
    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url


class DeviceCode(Message):
    def __init__(self, code: str, uri: str) -> None:
        super().__init__()
        self.code, self.uri = code, uri


class SignInDiagnosed(Message):
    """Salesforce refused the wizard's sign-in for a reason that is itself the diagnosis (its results recorded)."""

    def __init__(self, cause: str) -> None:
        super().__init__()
        self.cause = cause


class SignedInMsg(Message):
    def __init__(self, identity: SignedIn) -> None:
        super().__init__()
        self.identity = identity


class JobFailed(Message):
    """A job ended with an error a person can act on (or was cancelled)."""

    def __init__(self, job: str, message: str, hint: str = "", cancelled: bool = False) -> None:
        super().__init__()
        self.job, self.message, self.hint, self.cancelled = job, message, hint, cancelled


class ClickDone(Message):
    """The demo's stand-in performed a vendor click."""

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what


class StateMoved(Message):
    """The recovery's state moved (a sign-in, a snapshot, a person's action…); ``dropped``: the check ids whose
    results no longer stand. The frame and every pane draw again; the pane in view re-runs what it lost."""

    def __init__(self, dropped: frozenset[str]) -> None:
        super().__init__()
        self.dropped = dropped
