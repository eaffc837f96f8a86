"""``sfwizard check``: the automated checks as a table or JSON; exit 0 clean, 1 failures, 2 cannot run."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the checks load only when they run, keeping `check --help` quick
    from sfwizard.checks.base import CheckResult, CheckSpec

MARKS = {"pass": "PASS", "fail": "FAIL", "warn": "WARN", "manual": "ASK ", "skipped": "SKIP"}


def add_check_command(sub: Any) -> None:
    p = sub.add_parser("check", help="run the automated checks (table, or JSON with --json)",
                       description="Run every check the APIs can answer. Exit 0 when nothing fails, "
                                   "1 when something fails, 2 when the checks cannot run.")
    p.add_argument("--profile", choices=("gainsight-px", "skilljar"), help="the platform (default: from the "
                   "scenario in --demo, else gainsight-px)")
    p.add_argument("--demo", action="store_true", help="run against the bundled sandbox, started for the run")
    p.add_argument("--scenario", default="revoked-token", help="sandbox scenario for --demo (default: revoked-token)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object: the run, its counts and every "
                     "result with its reason code (versioned by its \"schema\" field)")
    out.add_argument("--json-lines", action="store_true", help="print each result as one JSON object per line as "
                     "soon as its check finishes, then one line for the run (counts, exit code, API calls)")
    p.add_argument("--only", metavar="IDS", help="comma-separated check ids")
    p.add_argument("--snapshot", metavar="FILE", help="the mapping snapshot to check against")
    p.add_argument("--list", action="store_true", help="list the check ids and exit")
    p.set_defaults(func=run_check_command)


def render_table(results: list[CheckResult], out: Any = None) -> None:
    out = out if out is not None else sys.stdout  # looked up at each call: stdout may have been replaced
    width = max((len(r.id) for r in results), default=10)
    for r in results:
        out.write(_row(r, width))
    out.write(_totals(results))


def _row(r: CheckResult, width: int) -> str:
    lines = [f"{MARKS[r.status.value]}  {r.id:<{width}}  {_one_line(r.summary)}\n"]
    if r.status.value in ("fail", "warn"):
        if r.cause:
            lines.append(f"{'':6}{'':<{width}}  cause: {_one_line(r.cause)}\n")
        if r.resolution:
            lines.append(f"{'':6}{'':<{width}}  fix:   {_one_line(r.resolution)}\n")
    return "".join(lines)


def _totals(results: Sequence[CheckResult]) -> str:
    counts = {s: sum(1 for r in results if r.status.value == s) for s in MARKS}
    return "\n" + ", ".join(f"{n} {s}" for s, n in counts.items() if n) + "\n"


class TableStream:
    """The table, row by row as the checks finish, in the order of the steps: a row is written as soon as its
    check and every check before it have finished (the same table ``render_table`` prints, never reordered)."""

    def __init__(self, specs: Sequence[CheckSpec], out: Any = None) -> None:
        self.out = out if out is not None else sys.stdout
        self.order = [s.id for s in specs]
        self.width = max((len(cid) for cid in self.order), default=10)
        self._waiting: dict[str, CheckResult] = {}
        self._next = 0
        self._lock = threading.Lock()

    def __call__(self, result: CheckResult) -> None:
        with self._lock:
            self._waiting[result.id] = result
            while self._next < len(self.order) and self.order[self._next] in self._waiting:
                self.out.write(_row(self._waiting.pop(self.order[self._next]), self.width))
                self._next += 1
            self.out.flush()

    def finish(self, results: Sequence[CheckResult]) -> None:
        with self._lock:
            for r in results[self._next:]:  # (only if a result never came through the callback)
                self.out.write(_row(r, self.width))
            self._next = len(results)
            self.out.write(_totals(results))
            self.out.flush()


class JsonLines:
    """``--json-lines``: one object per result as its check finishes ({"type": "result", …}, the keys of the
    document's results after "type"), then one for the run ({"type": "run", …}, the document without results
    plus "order": the ids in run order)."""

    def __init__(self, out: Any = None) -> None:
        self.out = out if out is not None else sys.stdout
        self._lock = threading.Lock()

    def __call__(self, result: CheckResult) -> None:
        self._write({"type": "result", **result.to_dict()})

    def finish(self, doc: dict[str, Any]) -> None:
        results = doc.pop("results")
        self._write({"type": "run", **doc, "order": [r["id"] for r in results]})

    def _write(self, obj: dict[str, Any]) -> None:
        with self._lock:
            self.out.write(json.dumps(obj, default=str, separators=(",", ":")) + "\n")
            self.out.flush()


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


def _print_diagnosis(args: argparse.Namespace, diagnosed: Any, only: list[str] | None) -> int:
    """A connection refused for a reason that is the diagnosis (a used-up API limit, an expired password, a
    deactivated or frozen user): the results as any run prints them, the cause named, exit 1."""
    results = [r for r in diagnosed.results if not only or r.id in only or _is_cause(r)]
    _record(results, diagnosed.api_calls, diagnosed.profile)
    code = diagnosed.exit_code
    if args.json or getattr(args, "json_lines", False):
        from sfwizard.checks.output import run_document

        doc = run_document(results, profile=diagnosed.profile, exit_code=code, api_calls=diagnosed.api_calls)
        if getattr(args, "json_lines", False):
            stream = JsonLines()
            for r in results:
                stream(r)
            stream.finish(doc)
        else:
            json.dump(doc, sys.stdout, indent=2, default=str)
            sys.stdout.write("\n")
    else:
        render_table(results)
        print("API calls: " + ", ".join(f"{k} {v}" for k, v in sorted(diagnosed.api_calls.items())),
              file=sys.stderr)
    print(f"sfwizard: Salesforce refused the sign-in's first call: {diagnosed.message} — the results name "
          "the cause and the fix", file=sys.stderr)
    return code


def _is_cause(r: CheckResult) -> bool:
    """The result that names why the connection was refused (the runner's stop: signin.*, the limit)."""
    return r.status.value == "fail" and r.reason.split(".", 1)[0] in ("signin", "salesforce")


def run_check_command(args: argparse.Namespace) -> int:
    from sfwizard.checks.runner import specs_for

    if args.list:
        for spec in specs_for(args.profile or "gainsight-px"):
            print(f"{spec.id:<32} {spec.step:<12} {spec.title}")
        return 0
    only = [x.strip() for x in args.only.split(",") if x.strip()] if args.only else None
    if only:
        specs_for(args.profile or "gainsight-px", only)  # unknown ids: one line before anything connects
    from sfwizard.cli.connection import open_for
    from sfwizard.recovery.connection import ConnectionDiagnosed

    lines = getattr(args, "json_lines", False)
    try:
        with open_for(args) as conn:
            ctx = conn.context()
            stream: Any = JsonLines() if lines else None if args.json else \
                TableStream(specs_for(conn.profile, only))
            results = conn.client.run_checks(ctx, only=only, on_result=stream)  # rows appear as checks finish
            calls = dict(conn.client.counter.counts)
            profile = conn.profile
    except ConnectionDiagnosed as diagnosed:  # refused before the first check: the refusal is the diagnosis
        return _print_diagnosis(args, diagnosed, only)
    _record(results, calls, profile)
    # A service that did not answer is no diagnosis: the run could not check, whatever else it found.
    code = 2 if ctx.sign_in_required or ctx.unreachable else exit_code(results)
    if args.json or lines:
        from sfwizard.checks.output import run_document

        doc = run_document(results, profile=profile, exit_code=code, api_calls=calls)
        if lines:
            stream.finish(doc)
        else:
            json.dump(doc, sys.stdout, indent=2, default=str)
            sys.stdout.write("\n")
    else:
        stream.finish(results)
        print("API calls: " + ", ".join(f"{k} {v}" for k, v in sorted(calls.items())), file=sys.stderr)
    if ctx.sign_in_required:
        print("sfwizard: the Salesforce sign-in is no longer valid — sign in again: sfwizard login", file=sys.stderr)
    elif ctx.unreachable:
        print(f"sfwizard: could not check — a service did not answer ({ctx.unreachable[0]}: a refused, dropped or "
              f"timed-out connection) and {len(ctx.unreachable) - 1} more check(s) were not run or judged; this "
              "run is no diagnosis: run it again when the services answer", file=sys.stderr)
    return code
