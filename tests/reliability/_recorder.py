"""Every secret the sandbox issues, recorded as it is made: passwords, client secrets, the platform API key,
access and refresh tokens, authorization and device codes, login sessions and transactions.

The sandbox makes them with ``secrets.token_urlsafe`` / ``token_hex`` in four modules; ``install`` puts a
recording stand-in for ``secrets`` in those modules (in this process). A child process (``sfwizard`` run as a
person runs it) installs it too, and appends each secret to a file at once, so a kill -9 loses none.

Not recorded: the connected app's client id (configuration, not a secret; made by ``add_connected_app``).
"""

from __future__ import annotations

import importlib
import os
import secrets as _real
import sys
import threading
from collections.abc import Callable

MODULES = ("sfwizard.sandbox.salesforce.tokens", "sfwizard.sandbox.salesforce.oauth",
           "sfwizard.sandbox.scenarios.builder", "sfwizard.sandbox.admin.routes")
MIN_LENGTH = 16  # shorter values (status-page ids, session id suffixes) are names, not secrets


class _Recording:
    """``secrets`` with token_urlsafe and token_hex reporting what they return."""

    def __init__(self, sink: Callable[[str], None]) -> None:
        self._sink = sink

    def token_urlsafe(self, nbytes: int | None = None) -> str:
        value = _real.token_urlsafe(nbytes)
        if sys._getframe(1).f_code.co_name != "add_connected_app":  # the client id: configuration
            self._keep(value)
        return value

    def token_hex(self, nbytes: int | None = None) -> str:
        value = _real.token_hex(nbytes)
        self._keep(value)
        self._keep(value.upper())  # client secrets are issued upper-case
        return value

    def _keep(self, value: str) -> None:
        if len(value) >= MIN_LENGTH:
            self._sink(value)

    def __getattr__(self, name: str):
        return getattr(_real, name)


_issued: set[str] = set()
_lock = threading.Lock()


def issued() -> set[str]:
    """The secrets recorded in this process so far."""
    with _lock:
        return set(_issued)


def install(path: str | None = None) -> None:
    """Record in this process (and, with ``path``, append each secret to that file as it is made)."""
    def sink(value: str) -> None:
        with _lock:
            _issued.add(value)
            if path:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                try:
                    os.write(fd, (value + "\n").encode())
                finally:
                    os.close(fd)

    recorder = _Recording(sink)
    for name in MODULES:
        module = importlib.import_module(name)
        module.secrets = recorder  # type: ignore[attr-defined]


def read_file(path: str) -> set[str]:
    try:
        with open(path, encoding="utf-8") as fh:
            return {line.strip() for line in fh if line.strip()}
    except OSError:
        return set()


# ``python -c "import _recorder; _recorder.main()" ARGS``: sfwizard as a person runs it, recording.
def main() -> None:
    install(os.environ.get("SFW_ISSUED_FILE"))
    from sfwizard.screens.launch import main as sfwizard_main

    raise SystemExit(sfwizard_main(sys.argv[1:]))
