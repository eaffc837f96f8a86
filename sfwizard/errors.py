"""The one error type a person can act on: what went wrong and what to do next."""

from __future__ import annotations


class SfwizardError(Exception):
    """A failure with a one-line message and a next step, shown once, without a traceback."""

    def __init__(self, message: str, hint: str = "", *, kind: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        # what kind of failure, for code that must tell them apart: "unreachable" (no connection, a
        # timeout), "tls" (a certificate the trust store refuses), or "" (the service answered).
        self.kind = kind

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message
