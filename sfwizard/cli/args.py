"""Argument types checked at the edge: a mistake on the command line is one line, before anything runs."""

from __future__ import annotations

import argparse


def port_arg(text: str) -> int:
    """A TCP port from the command line: 0 (any free port) to 65535."""
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text[:40]!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535, not {text[:40]}")
    return value


def count_arg(text: str) -> int:
    """A count or a duration in milliseconds from the command line: a whole number, 0 or more."""
    try:
        value = int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text[:40]!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def text_arg(text: str) -> str:
    """A name or an id from the command line: one line of printable text, not empty."""
    value = text.strip()
    if not value or any(not ch.isprintable() for ch in value) or len(value) > 255:
        raise argparse.ArgumentTypeError(f"not a usable value: {text[:40]!r}")
    return value


def login_url_arg(text: str) -> str:
    """production, test or an https Salesforce login URL (checked as the settings check it)."""
    from sfwizard.errors import SfwizardError
    from sfwizard.integrations.settings import login_url

    try:
        return login_url(text)
    except SfwizardError as exc:
        raise argparse.ArgumentTypeError(f"{exc.message} ({exc.hint})") from None


def when_arg(text: str):  # noqa: ANN201 - a datetime (imported lazily: the CLI starts fast)
    """A day (2026-11-20, midnight UTC) or a time (2026-11-20T10:00:00Z, an offset, or UTC when none)."""
    from sfwizard.sftime import parse_datetime

    try:
        return parse_datetime(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text[:40]!r} (write 2026-11-20 or "
                                         "2026-11-20T10:00:00Z)") from None
