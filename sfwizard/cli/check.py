"""``sfwizard check``: the automated checks as a table or JSON; exit 0 clean, 1 failures, 2 cannot run."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the checks load only when they run, keeping `check --help` quick
    from sfwizard.checks.base import CheckResult

MARKS = {"pass": "PASS", "fail": "FAIL", "warn": "WARN", "manual": "ASK ", "skipped": "SKIP"}


def add_check_command(sub: Any) -> None:
    p = sub.add_parser("check", help="run the automated checks (table, or JSON with --json)",
                       description="Run every check the APIs can answer. Exit 0 when nothing fails, "
                                   "1 when something fails, 2 when the checks cannot run.")
    p.add_argument("--profile", choices=("gainsight-px", "skilljar"), help="the platform (default: from the "
                   "scenario in --demo, else gainsight-px)")
    p.add_argument("--demo", action="store_true", help="run against the bundled sandbox, started for the run")
    p.add_argument("--scenario", default="revoked-token", help="sandbox scenario for --demo (default: revoked-token)")
    p.add_argument("--json", action="store_true", help="print one JSON object: the run, its counts and every "
                   "result with its reason code (versioned by its \"schema\" field)")
    p.add_argument("--only", metavar="IDS", help="comma-separated check ids")
    p.add_argument("--snapshot", metavar="FILE", help="the mapping snapshot to check against")
    p.add_argument("--list", action="store_true", help="list the check ids and exit")
    p.set_defaults(func=run_check_command)


def render_table(results: list[CheckResult], out: Any = None) -> None:
    out = out if out is not None else sys.stdout  # looked up at each call: stdout may have been replaced
    width = max((len(r.id) for r in results), default=10)
    for r in results:
        out.write(f"{MARKS[r.status.value]}  {r.id:<{width}}  {_one_line(r.summary)}\n")
        if r.status.value in ("fail", "warn"):
            if r.cause:
                out.write(f"{'':6}{'':<{width}}  cause: {_one_line(r.cause)}\n")
            if r.resolution:
                out.write(f"{'':6}{'':<{width}}  fix:   {_one_line(r.resolution)}\n")
    counts = {s: sum(1 for r in results if r.status.value == s) for s in MARKS}
    out.write("\n" + ", ".join(f"{n} {s}" for s, n in counts.items() if n) + "\n")


def _one_line(text: str) -> str:
    """Server-provided text is shown as text: control characters and newlines flattened."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in str(text)).split())


def exit_code(results: list[CheckResult]) -> int:
    return 1 if any(r.status.value == "fail" for r in results) else 0


def _record(results: list[CheckResult], calls: dict[str, int], profile: str) -> None:
    """Append the run to the profile's recovery session (skipped while a wizard holds it).

    Never loses the run: whatever stops the recording (a data folder that is read-only or a file, a full disk,
    a damaged session) is one line on stderr, and the results are still printed by the caller."""
    import logging

    from sfwizard.errors import SfwizardError
    from sfwizard.recovery.session import RecoverySession

    log = logging.getLogger("sfwizard")
    try:
        session = RecoverySession.latest(profile) or RecoverySession.new(profile)
    except SfwizardError as exc:
        if exc.kind == "save":  # the data folder cannot be written: say so (a held session is no news)
            print(f"sfwizard: this run is not saved in the recovery session: {exc}", file=sys.stderr)
        else:
            log.info("run not recorded: %s", exc.message)
        return
    except Exception as exc:  # noqa: BLE001 - a bug in recording must not throw the run away
        log.debug("run not recorded", exc_info=True)
        print(f"sfwizard: this run is not saved in the recovery session ({type(exc).__name__}: {exc}); the "
              "results below are complete — run with --debug for details", file=sys.stderr)
        return
    try:
        session.record_run([r.to_dict() for r in results], calls)
    except SfwizardError as exc:
        print(f"sfwizard: this run is not saved in the recovery session: {exc}", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - as above
        log.debug("run not recorded", exc_info=True)
        print(f"sfwizard: this run is not saved in the recovery session ({type(exc).__name__}: {exc}); the "
              "results below are complete — run with --debug for details", file=sys.stderr)
    finally:
        session.release()


def run_check_command(args: argparse.Namespace) -> int:
    from sfwizard.checks.runner import specs_for

    if args.list:
        for spec in specs_for(args.profile or "gainsight-px"):
            print(f"{spec.id:<32} {spec.step:<12} {spec.title}")
        return 0
    only = [x.strip() for x in args.only.split(",") if x.strip()] if args.only else None
    from sfwizard.cli.connection import open_for

    with open_for(args) as conn:
        ctx = conn.context()
        results = conn.client.run_checks(ctx, only=only)
        calls = conn.client.counter.counts
        profile = conn.profile
    _record(results, calls, profile)
    # A service that did not answer is no diagnosis: the run could not check, whatever else it found.
    code = 2 if ctx.sign_in_required or ctx.unreachable else exit_code(results)
    if args.json:
        from sfwizard.checks.output import run_document

        doc = run_document(results, profile=profile, exit_code=code, api_calls=calls)
        json.dump(doc, sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        render_table(results)
        print("API calls: " + ", ".join(f"{k} {v}" for k, v in sorted(calls.items())), file=sys.stderr)
    if ctx.sign_in_required:
        print("sfwizard: the Salesforce sign-in is no longer valid — sign in again: sfwizard login", file=sys.stderr)
    elif ctx.unreachable:
        print(f"sfwizard: could not check — a service did not answer ({ctx.unreachable[0]}: a refused, dropped or "
              f"timed-out connection) and {len(ctx.unreachable) - 1} more check(s) were not run or judged; this "
              "run is no diagnosis: run it again when the services answer", file=sys.stderr)
    return code
