"""Unreachable is not a diagnosis: when calls only failed to connect, no troubleshooting row names a cause,
the run says it could not check, and ``sfwizard check`` exits 2."""

from __future__ import annotations

import pytest

from sfwizard.checks.base import CheckSpec, Status, ok
from sfwizard.checks.context import CheckContext
from sfwizard.checks.runner import REGISTRY, run_checks
from sfwizard.checks.troubleshoot import SYMPTOMS
from sfwizard.errors import SfwizardError
from sfwizard.integrations.salesforce import SalesforceUnreachable
from sfwizard.profiles import load_profile
from sfwizard.sandbox.scenarios.loader import diagnosis_suite

SUITE = {p.stem: p for p in diagnosis_suite()}


def test_an_org_that_stops_answering_gets_no_diagnosis(check_json) -> None:
    doc = check_json(SUITE["pinecrest-unreachable"])
    assert doc["exit_code"] == 2
    r = doc["by_id"]
    assert (r["before.salesforce_admin"]["status"], r["before.salesforce_admin"]["reason"]) == \
        ("fail", "net.unreachable")
    symptoms = [x for x in doc["results"] if x["id"].startswith("ts.")]
    assert symptoms and all(x["status"] == "skipped" and x["reason"] == "skip.unreachable" for x in symptoms)
    later = [x for x in doc["results"] if x["step"] not in ("before", "impact", "troubleshoot")
             and x["id"] != "before.salesforce_admin" and x["status"] != "pass"]
    # (the Knowledge toggle is asked of a person whatever the network does: no API shows it)
    assert later and {x["reason"] for x in later} <= {"skip.unreachable", "net.unreachable", "ask.knowledge_toggle"}
    assert doc["counts"]["fail"] == 1  # the one call that found out, not a list of invented causes


def test_the_table_run_says_it_could_not_check(run_cli) -> None:
    code, _, err = run_cli("check", "--demo", "--scenario", str(SUITE["pinecrest-unreachable"]))
    assert code == 2 and "could not check" in err and "no diagnosis" in err


def _spec(cid: str, func, needs=("salesforce",)) -> CheckSpec:
    return CheckSpec(cid, cid, "reauthorize", func, ("gainsight-px",), tuple(needs))


class _Sf:
    instance_url = "https://example.invalid"


def _raise(exc: Exception):
    def run(ctx):
        raise exc
    return run


def test_the_rest_of_the_salesforce_checks_is_not_run_after_the_org_stopped_answering() -> None:
    ctx = CheckContext(load_profile("gainsight-px"), sf=_Sf())  # type: ignore[arg-type]
    specs = [_spec("a", _raise(SalesforceUnreachable("cannot reach x: ConnectionError"))),
             _spec("b", lambda c: ok("never")), _spec("c", lambda c: ok("no Salesforce"), needs=())]
    results = run_checks(ctx, specs, workers=1)  # one at a time: b comes after a's stop
    assert [(r.status, r.reason) for r in results] == [
        (Status.FAIL, "net.unreachable"), (Status.SKIPPED, "skip.unreachable"), (Status.PASS, "")]
    assert ctx.unreachable == ["a", "b"]


@pytest.mark.parametrize("symptom", [s.id for s in SYMPTOMS])
def test_no_symptom_names_a_cause_from_an_unanswered_call(symptom: str) -> None:
    """Each symptom's own checks ended unreachable (a platform or status call, not Salesforce): skipped."""
    sym = next(s for s in SYMPTOMS if s.id == symptom)
    ctx = CheckContext(load_profile("gainsight-px"))
    looked = [_spec(cid, _raise(SfwizardError(f"{cid}: did not answer in time", kind="unreachable")), needs=())
              for cid in sym.looks_at]
    results = run_checks(ctx, [*looked, REGISTRY[symptom]])
    r = results[-1]
    assert (r.status, r.reason) == (Status.SKIPPED, "skip.unreachable"), r.summary
    assert r.evidence["unreachable"] == list(sym.looks_at)
