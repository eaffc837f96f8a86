"""The ``sfwizard`` command. Imports stay lazy so ``--help`` and ``check`` start fast."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from sfwizard import __version__
from sfwizard.errors import SfwizardError


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from sfwizard.sandbox import faults as faults_mod
    from sfwizard.sandbox.scenario import load_scenario
    from sfwizard.sandbox.server import Sandbox, run_forever

    state = load_scenario(args.scenario)
    for spec in args.fault or []:
        faults_mod.apply_spec(state.faults, spec)
    if args.latency is not None:
        state.faults.latency_ms = args.latency
    return run_forever(Sandbox(state, port=args.port))


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from sfwizard.sandbox.scenario import builtin_scenarios

    for name, description in builtin_scenarios():
        print(f"{name:<22} {description}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sfwizard",
        description="Guided, verified recovery of a disconnected Salesforce integration.",
    )
    parser.add_argument("--version", action="version", version=f"sfwizard {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("sandbox", help="serve the bundled Salesforce / Gainsight PX / status-page sandbox",
                       description="Serve HTTPS on 127.0.0.1; print one JSON line with the connection "
                                   "details, then serve until Ctrl-C.")
    p.add_argument("--scenario", default="revoked-token", metavar="NAME|PATH",
                   help="a built-in scenario (see `sfwizard scenarios`) or a YAML file (default: revoked-token)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--latency", type=int, metavar="MS", help="add MS milliseconds to every answer")
    p.add_argument("--fault", action="append", metavar="SPEC",
                   help="inject a fault, repeatable: latency=MS[~JITTER], error=RATE[:STATUS], drop=RATE, "
                        "expire-token=N, request-limit=N, px-rate=N, px-429=RATE")
    p.set_defaults(func=_cmd_sandbox)

    p = sub.add_parser("scenarios", help="list the built-in sandbox scenarios")
    p.set_defaults(func=_cmd_scenarios)

    from sfwizard.account_cli import add_account_commands
    from sfwizard.check_cli import add_check_command
    from sfwizard.records_cli import add_record_commands

    add_check_command(sub)
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
