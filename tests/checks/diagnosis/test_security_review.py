"""The security review (issue 22) on the sec-* tenants: ``check --json`` and ``review --json`` name what was planted
and nothing else; ``review`` takes its window and the vendor's egress ranges from the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sfwizard.checks.runner import REGISTRY
from sfwizard.recovery.security_report import security_json, security_section
from sfwizard.sandbox.scenarios.expect import STATUSES, evaluate
from sfwizard.sandbox.scenarios.loader import diagnosis_suite, load_expectation

SECURITY = [p for p in diagnosis_suite() if p.stem.startswith("sec-")]
ROWS = sorted(cid for cid, spec in REGISTRY.items() if spec.step == "security")


@pytest.fixture
def review_json(run_cli: Callable[..., tuple[int, str, str]]) -> Callable[..., tuple[int, dict[str, Any]]]:
    def run(scenario: str | Path, *args: str) -> tuple[int, dict[str, Any]]:
        code, out, err = run_cli("review", "--demo", "--scenario", str(scenario), "--json", *args)
        assert out, err
        doc = json.loads(out)
        assert doc["exit_code"] == code
        doc["by_id"] = {r["id"]: r for r in doc["results"]}
        return code, doc

    return run


def _security_part(expect: dict[str, Any]) -> dict[str, Any]:
    """The expect block's sec.* rows only (what ``review`` runs), its exit code from them."""
    part: dict[str, Any] = {s: [c for c in expect.get(s, []) if c.startswith("sec.")] for s in STATUSES}
    part["reasons"] = {c: r for c, r in (expect.get("reasons") or {}).items() if c.startswith("sec.")}
    part["evidence"] = {c: e for c, e in (expect.get("evidence") or {}).items() if c.startswith("sec.")}
    return part


def test_six_security_tenants_at_least_and_each_names_every_row() -> None:
    assert len(ROWS) == 9
    assert len(SECURITY) >= 6
    for path in SECURITY:
        expect = load_expectation(str(path))
        named = sorted(c for s in STATUSES for c in expect.get(s, []) if c.startswith("sec."))
        assert named == ROWS, f"{path.stem}: every row's status is stated, so nothing else may be named"


@pytest.mark.parametrize("path", SECURITY, ids=lambda p: p.stem)
def test_review_json_names_what_was_planted_and_nothing_else(review_json, path: Path) -> None:
    expect = _security_part(load_expectation(str(path)))
    code, doc = review_json(path)
    assert sorted(doc["by_id"]) == ROWS  # the review is the security rows, no others
    verdict = evaluate(expect, doc)
    assert verdict.named_right, "\n".join(verdict.lines())
    assert code == (1 if expect["fail"] else 0)
    assert doc["security"]["window"]["since"] < doc["security"]["window"]["until"]


def test_review_and_check_agree_row_for_row(review_json, check_json) -> None:
    path = next(p for p in SECURITY if p.stem == "sec-stray-tokens")
    _, review = review_json(path)
    check = check_json(path)
    for cid in ROWS:
        a, b = review["by_id"][cid], check["by_id"][cid]
        assert (a["status"], a["reason"]) == (b["status"], b["reason"]), cid


def test_declared_ranges_on_the_command_line_cover_the_network(review_json) -> None:
    path = next(p for p in SECURITY if p.stem == "sec-undeclared-network")
    code, doc = review_json(path, "--egress", "34.201.12.0/24", "--egress", "203.0.113.0/24",
                            "--egress-source", "https://vendor.example/ips")
    logins = doc["by_id"]["sec.logins"]
    assert logins["status"] == "pass", logins["summary"]
    assert logins["evidence"]["declared_source"] == "https://vendor.example/ips"
    assert doc["security"]["egress"]["ranges"] == ["34.201.12.0/24", "203.0.113.0/24"]
    assert code == 0


def test_a_window_that_ends_before_the_logins_sees_none_of_them(review_json) -> None:
    path = next(p for p in SECURITY if p.stem == "sec-undeclared-network")
    # The planted logins are 2 and 1 days ago: a window that ended 3 days ago holds none of them.
    from datetime import datetime, timedelta, timezone

    until = (datetime.now(timezone.utc) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _, doc = review_json(path, "--until", until)
    logins = doc["by_id"]["sec.logins"]
    assert logins["status"] == "pass"
    assert logins["evidence"]["outside_declared"] == []
    assert doc["security"]["window"]["until"].startswith(until[:16])


@pytest.mark.parametrize("args, words", [
    (("--egress", "not-an-ip"), "not-an-ip"),
    (("--since", "2026-12-02", "--until", "2026-12-01"), "--until is before --since"),
    (("--since", "2999-01-01"), "future"),
    (("--egress-source", "https://x.example"), "--egress-source without --egress"),
])
def test_bad_arguments_are_one_line_and_exit_2(run_cli, args: tuple[str, ...], words: str) -> None:
    code, out, err = run_cli("review", "--demo", "--scenario", "healthy", *args)
    assert code == 2
    assert words in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.startswith("sfwizard:")]) == 1


def test_a_date_that_is_no_date_is_refused_by_the_parser(run_cli) -> None:
    with pytest.raises(SystemExit) as exc:
        run_cli("review", "--since", "last tuesday")
    assert exc.value.code == 2


def test_the_report_section_shows_the_network_and_what_could_not_be_read(review_json) -> None:
    _, doc = review_json(next(p for p in SECURITY if p.stem == "sec-undeclared-network"))
    lines = security_section(doc["results"])
    text = "\n".join(lines)
    assert lines[0] == "## Security review"
    assert "| 203.0.113.0/24 | **no** | 30 |" in text
    assert "Amsterdam" in text and "Netherlands" in text
    assert "sec.login\\_outside\\_ranges" in text
    _, blind = review_json(next(p for p in SECURITY if p.stem == "sec-admin-without-manage-users"))
    text = "\n".join(security_section(blind["results"]))
    assert "### What could not be read" in text
    assert "Manage Users" in text
    data = security_json(blind["results"])
    assert [c["check"] for c in data["could_not_read"]] == ["sec.logins"]
    assert security_section([]) == []  # no review, no section
