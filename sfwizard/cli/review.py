"""``sfwizard review``: the security review alone, headless — the Security review step's rows as a table or JSON.

The same rows ``check`` runs in its ``security`` step, over a window (``--since``/``--until``; default 30 days
before the disconnect to now) and against the vendor egress ranges declared (``--egress``, with the page they
came from; else the ranges saved for the platform, else none). Exit 0 nothing fails, 1 something fails, 2 the
review cannot run — as ``check``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Any

from sfwizard.cli.args import when_arg


def add_review_command(sub: Any) -> None:
    p = sub.add_parser("review", help="the security review of the integration (table, or JSON with --json)",
                       description="Review what the org shows about the integration before it reconnects: logins "
                                   "by source network, every token of the vendor's apps, the integration user's "
                                   "reach, the app's policies, API volume and Setup changes. Exit 0 when nothing "
                                   "fails, 1 when something fails, 2 when the review cannot run.")
    p.add_argument("--profile", choices=("gainsight-px", "skilljar"), help="the platform (default: from the "
                   "scenario in --demo, else gainsight-px)")
    p.add_argument("--demo", action="store_true", help="run against the bundled sandbox, started for the run")
    p.add_argument("--scenario", default="revoked-token", help="sandbox scenario for --demo (default: revoked-token)")
    p.add_argument("--since", type=when_arg, metavar="DATE", help="the window's start (default: 30 days before "
                   "the disconnect)")
    p.add_argument("--until", type=when_arg, metavar="DATE", help="the window's end (default: now)")
    p.add_argument("--egress", action="append", metavar="RANGE", help="a vendor egress range (34.201.12.0/24, "
                   "10.0.0.1-10.0.0.9 or one address); repeat for more; for this run only")
    p.add_argument("--egress-source", metavar="URL", help="where the --egress ranges are published")
    p.add_argument("--snapshot", metavar="FILE", help="the mapping snapshot the reach is held against")
    p.add_argument("--json", action="store_true", help="print one JSON object: the run as `check --json` prints it "
                   "plus a \"security\" key (window, egress ranges, what could not be read)")
    p.set_defaults(func=run_review_command)


def _settings(args: argparse.Namespace, ctx: Any) -> None:
    """The window and egress ranges of this run, on top of what the connection attached (saved or the demo's)."""
    from sfwizard.checks.security_settings import attach, check_range, settings_of
    from sfwizard.errors import SfwizardError

    s = settings_of(ctx)
    if args.egress is not None:
        ranges = [r.strip() for r in args.egress if r.strip()]
        bad = [p for p in (check_range(r) for r in ranges) if p]
        if bad:
            raise SfwizardError(bad[0], "write each --egress as 34.201.12.0/24, 10.0.0.1-10.0.0.9 or one address")
        s = s.with_egress(ranges, args.egress_source or "")
    if args.since is not None and args.until is not None and args.until <= args.since:
        raise SfwizardError("--until is before --since", "pick an end after the start")
    if args.since is not None and args.since > ctx.now:
        raise SfwizardError("--since is in the future", "pick a start in the past")
    attach(ctx, replace(s, since=args.since or s.since, until=args.until or s.until))


def run_review_command(args: argparse.Namespace) -> int:
    from sfwizard.checks.runner import specs_for
    from sfwizard.cli.check import TableStream, _record, exit_code
    from sfwizard.cli.connection import open_for
    from sfwizard.errors import SfwizardError
    from sfwizard.recovery.security_report import security_json

    if args.egress_source and not args.egress:
        raise SfwizardError("--egress-source without --egress", "give the ranges with --egress RANGE")
    with open_for(args) as conn:
        ctx = conn.context()
        _settings(args, ctx)
        specs = specs_for(conn.profile, steps=["security"])
        stream: Any = None if args.json else TableStream(specs)
        results = conn.client.run_checks(ctx, steps=["security"], on_result=stream)
        calls = dict(conn.client.counter.counts)
        profile = conn.profile
    _record(results, calls, profile)
    code = 2 if ctx.sign_in_required or ctx.unreachable else exit_code(results)
    if args.json:
        from sfwizard.checks.output import run_document

        doc = run_document(results, profile=profile, exit_code=code, api_calls=calls)
        doc["security"] = {k: v for k, v in security_json(results).items() if k != "rows"}
        json.dump(doc, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        stream.finish(results)
        _footer(security_json(results))
        print("API calls: " + ", ".join(f"{k} {v}" for k, v in sorted(calls.items())), file=sys.stderr)
    if ctx.sign_in_required:
        print("sfwizard: the Salesforce sign-in is no longer valid — sign in again: sfwizard login", file=sys.stderr)
    elif ctx.unreachable:
        print("sfwizard: could not review — a service did not answer; this run is no diagnosis: run it again when "
              "the services answer", file=sys.stderr)
    return code


def _footer(doc: dict[str, Any]) -> None:
    """The window the rows read and the ranges they were held against (from the rows' own evidence)."""
    w, eg = doc.get("window"), doc.get("egress")
    if w:
        print(f"Window: {w['since']} to {w['until']}" + (f" (disconnected {w['disconnect']})" if w.get("disconnect")
                                                        else ""))
    if eg is not None:
        print("Vendor egress ranges: " + (f"{', '.join(eg['ranges'])} (source: {eg.get('source') or 'not given'})"
                                          if eg["ranges"] else "none declared (give them with --egress)"))
