"""The one error type a person can act on: what went wrong and what to do next.

Two ways forward travel with each error: ``hint``, words for the command line (it may name a command or an
environment variable), and ``fix``, a machine-readable code the wizard turns into a key or a pane of its own
(``FIXES`` below) — so a wizard user is never sent to a shell.
"""

from __future__ import annotations

# fix code → the way forward inside the wizard, in words (the wizard maps each code to a pane or a key).
FIXES: dict[str, str] = {
    "settings.client_id": "open Settings → Client id (the Consumer Key of the connected app) and test it",
    "settings.login_url": "open Settings → Login host (production, sandbox or your My Domain)",
    "settings.port": "open Settings → Callback port (it must match the connected app's callback URL)",
    "settings.px_api_key": "open Settings → Gainsight PX API key and test it",
    "settings.px_api_url": "open Settings → Gainsight PX region / API address",
    "settings.status_url": "open Settings → Status page address",
    "settings.ca_cert": "open Settings → Extra CA certificate (your company's TLS-inspecting proxy)",
    "connect.sign_in": "go to the Connect step and sign in again",
    "connect.choose": "go to the Connect step and choose another way to sign in",
    "demo.click": "press v: the demo makes the click on the vendor's stand-in page",
    "retry": "press r to try again",
    "session.new": "start a new recovery session from the start screen",
    "storage": "free some disk space or make the sfwizard folder writable, then press r",
}


class SfwizardError(Exception):
    """A failure with a one-line message and a next step, shown once, without a traceback."""

    def __init__(self, message: str, hint: str = "", *, kind: str = "", fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        # what kind of failure, for code that must tell them apart: "unreachable" (no connection, a
        # timeout), "tls" (a certificate the trust store refuses), or "" (the service answered).
        self.kind = kind
        # where the wizard sends the person to mend it (a key of FIXES); "" when nothing in the wizard can
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message

    def wizard_text(self) -> str:
        """One line for the wizard: the message and the way forward inside the wizard (never a shell command
        or an environment variable); without a fix code, the message alone."""
        words = FIXES.get(self.fix, "")
        return f"{self.message} — {words}" if words else self.message
