"""``sfwizard check`` streams: ``--json-lines`` writes each result as its check finishes and the run last; the
table writes each row as soon as it and every row above it are known, in the order of the steps."""

from __future__ import annotations

import io
import json

from sfwizard.checks.base import CheckResult, CheckSpec, Status
from sfwizard.cli.check import TableStream, render_table


def test_json_lines_one_object_per_result_then_the_run(run_cli) -> None:
    out = run_cli("check", "--demo", "--json-lines", timeout=120)
    assert out.returncode == 1, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]  # every line is one JSON object
    *results, run = lines
    assert {r["type"] for r in results} == {"result"} and run["type"] == "run"
    assert sorted(r["id"] for r in results) == sorted(run["order"])  # each result once
    assert len(run["order"]) == len(set(run["order"]))
    assert list(results[0])[:3] == ["type", "id", "title"]
    assert run["exit_code"] == 1 and run["schema"] == 1 and "results" not in run
    assert run["counts"] == {s: sum(1 for r in results if r["status"] == s)
                             for s in ("pass", "fail", "warn", "manual", "skipped")}
    by_id = {r["id"]: r for r in results}
    assert by_id["token.fresh"]["reason"] == "token.not_granted"
    assert run["api_calls"]["salesforce"] > 0


def test_json_and_json_lines_do_not_go_together(run_cli) -> None:
    out = run_cli("check", "--demo", "--json", "--json-lines")
    assert out.returncode == 2 and "not allowed with" in out.stderr


def _result(cid: str, status: Status = Status.PASS) -> CheckResult:
    return CheckResult(cid, cid, status, f"{cid} done", step="validate",
                       cause="why" if status == Status.FAIL else "", resolution="fix" if status == Status.FAIL else "",
                       reason="x.y" if status == Status.FAIL else "")


def _spec(cid: str) -> CheckSpec:
    return CheckSpec(cid, cid, "validate", lambda ctx: None, ("gainsight-px",), ())  # type: ignore[arg-type, return-value]


def test_the_table_writes_rows_in_step_order_as_soon_as_the_rows_above_are_known() -> None:
    out = io.StringIO()
    ids = ["a.first", "b.second", "c.third"]
    table = TableStream([_spec(c) for c in ids], out)
    table(_result("c.third"))
    table(_result("b.second", Status.FAIL))
    assert out.getvalue() == ""  # a.first is still running: nothing can be written yet
    table(_result("a.first"))
    rows = out.getvalue()
    assert [line.split()[1] for line in rows.splitlines() if line[:4] in ("PASS", "FAIL")] == ids
    results = [_result("a.first"), _result("b.second", Status.FAIL), _result("c.third")]
    table.finish(results)
    full = io.StringIO()
    render_table(results, full)
    assert out.getvalue() == full.getvalue()  # the same table as printed at once
