"""The ``sfwizard`` command. Imports stay lazy so ``--help`` and ``check`` start fast."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from sfwizard import __version__
from sfwizard.errors import SfwizardError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sfwizard",
        description="Guided, verified recovery of a disconnected Salesforce integration.",
    )
    parser.add_argument("--version", action="version", version=f"sfwizard {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    from sfwizard.cli.account import add_account_commands
    from sfwizard.cli.check import add_check_command
    from sfwizard.cli.records import add_record_commands
    from sfwizard.cli.sandbox import add_sandbox_commands

    add_check_command(sub)
    add_sandbox_commands(sub)
    add_account_commands(sub)
    add_record_commands(sub)
    return parser


def _add_log_file() -> None:
    """A log in the user data folder for the support bundle (redacted like every other output)."""
    from logging.handlers import RotatingFileHandler

    from sfwizard import paths

    try:
        handler = RotatingFileHandler(paths.data_dir() / "sfwizard.log", maxBytes=1_000_000, backupCount=2)
    except OSError:
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.setLevel(logging.INFO)
    logging.getLogger().addHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    from sfwizard.redact import install_log_redaction

    if args.command not in (None, "sandbox", "scenarios"):
        _add_log_file()
    for handler in logging.getLogger().handlers:
        install_log_redaction(handler)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return func(args)
    except SfwizardError as exc:
        if args.debug:
            raise
        print(f"sfwizard: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: one line for the person, the traceback behind --debug
        if args.debug:
            raise
        print(f"sfwizard: unexpected error: {type(exc).__name__}: {exc} — run again with --debug and "
              "send the output with the support bundle (sfwizard report)", file=sys.stderr)
        return 2
