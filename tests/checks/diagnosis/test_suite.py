"""The diagnosis suite: tenants nobody wrote the checks for, each run through ``sfwizard check --demo
--scenario PATH --json`` and held against the ``expect:`` block in its own file."""

from __future__ import annotations

from pathlib import Path

import pytest

from sfwizard.checks.reasons import CATALOG
from sfwizard.checks.runner import REGISTRY
from sfwizard.sandbox.scenarios.expect import STATUSES, evaluate
from sfwizard.sandbox.scenarios.loader import builtin_scenarios, diagnosis_suite, load_expectation, load_scenario

SUITE = diagnosis_suite()


def test_the_suite_holds_at_least_ten_tenants_listed_as_such() -> None:
    assert len(SUITE) >= 10
    listed = dict(builtin_scenarios())
    for path in SUITE:
        assert listed[f"diagnosis/{path.stem}"].startswith("[diagnosis suite] ")
        assert load_scenario(str(path)).scenario_name == path.stem  # the file's name is the scenario's


@pytest.mark.parametrize("path", SUITE, ids=lambda p: p.stem)
def test_each_expectation_names_real_checks_and_reasons(path: Path) -> None:
    expect = load_expectation(str(path))
    assert "exit_code" in expect and any(expect.get(s) for s in STATUSES), "say what the run must show"
    profile = load_scenario(str(path)).profile
    named = [c for key in (*STATUSES, "not_failing", "may_fail", "symptoms") for c in expect.get(key, [])]
    named += [*expect.get("reasons", {}), *expect.get("evidence", {})]
    for cid in named:
        assert cid in REGISTRY and profile in REGISTRY[cid].profiles, cid
    for cid, reason in expect.get("reasons", {}).items():
        assert reason in CATALOG, (cid, reason)
    assert all(c.startswith("ts.") for c in expect.get("symptoms", []))


@pytest.mark.parametrize("path", SUITE, ids=lambda p: p.stem)
def test_each_tenant_is_diagnosed_as_expected(check_json, path: Path) -> None:
    doc = check_json(path)
    verdict = evaluate(load_expectation(str(path)), doc)
    assert verdict.named_right, "\n".join(verdict.lines())
