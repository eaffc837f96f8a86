"""``sfwizard sandbox`` and ``sfwizard scenarios``: parsing and printing; the sandbox does the work."""

from __future__ import annotations

import argparse
from typing import Any


def add_sandbox_commands(sub: Any) -> None:
    p = sub.add_parser("sandbox", help="serve the bundled Salesforce / Gainsight PX / status-page sandbox",
                       description="Serve HTTPS on 127.0.0.1; print one JSON line with the connection "
                                   "details, then serve until Ctrl-C.")
    p.add_argument("--scenario", default="revoked-token", metavar="NAME|PATH",
                   help="a built-in scenario (see `sfwizard scenarios`) or a YAML file (default: revoked-token)")
    from sfwizard.cli.args import count_arg, port_arg

    p.add_argument("--port", type=port_arg, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--latency", type=count_arg, metavar="MS", help="add MS milliseconds to every answer")
    p.add_argument("--fault", action="append", metavar="SPEC",
                   help="inject a fault, repeatable: latency=MS[~JITTER], error=RATE[:STATUS], drop=RATE, "
                        "expire-token=N, request-limit=N, px-rate=N, px-429=RATE, unreachable=SERVICE[:AFTER]")
    p.add_argument("--until-stdin-closes", action="store_true", help=argparse.SUPPRESS)  # a parent's child
    p.set_defaults(func=_cmd_sandbox)

    p = sub.add_parser("scenarios", help="list the built-in sandbox scenarios")
    p.set_defaults(func=_cmd_scenarios)


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from sfwizard.sandbox import faults as faults_mod
    from sfwizard.sandbox.scenarios.loader import load_scenario
    from sfwizard.sandbox.server import Sandbox, run_forever

    state = load_scenario(args.scenario)
    for spec in args.fault or []:
        faults_mod.apply_spec(state.faults, spec)
    if args.latency is not None:
        faults_mod.apply_spec(state.faults, f"latency={args.latency}")
    if args.until_stdin_closes:
        _stop_when_stdin_closes()
    return run_forever(Sandbox(state, port=args.port))


def _stop_when_stdin_closes() -> None:
    """Stop as Ctrl-C would once stdin reaches its end: the parent that started this sandbox has gone."""
    import _thread
    import sys
    import threading

    def watch() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        _thread.interrupt_main()

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _cmd_scenarios(args: argparse.Namespace) -> int:
    from sfwizard.sandbox.scenarios.loader import builtin_scenarios

    for name, description in builtin_scenarios():
        print(f"{name:<22} {description}")
    return 0
