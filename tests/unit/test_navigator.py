"""The wizard's navigator without a screen: order, gates, skips, Back, resume, saving as it goes."""

from __future__ import annotations

import pytest

from sfwizard.checks.base import CheckResult, Status
from sfwizard.errors import SfwizardError
from sfwizard.profiles import load_profile
from sfwizard.recovery.navigator import Actor, GateClosed, Navigator
from sfwizard.recovery.session import RecoverySession

CHECK_STEPS = {
    "before.status_page": "before", "before.people": "before", "before.salesforce_admin": "connect",
    "flow.schedule": "impact", "mapping.salesforce_fields": "mappings", "token.fresh": "reauthorize",
    "identity.right_org": "reauthorize", "token.platform_status": "sync", "flow.salesforce_to_platform": "validate",
    "flow.platform_to_salesforce": "validate", "knowledge.toggle": "knowledge", "ts.wrong_org": "troubleshoot",
}


def _r(cid: str, status: str, summary: str = "") -> CheckResult:
    return CheckResult(cid, cid.title(), Status(status), summary or f"{cid} {status}", step=CHECK_STEPS.get(cid, ""))


@pytest.fixture()
def session(tmp_path, monkeypatch) -> RecoverySession:
    monkeypatch.setenv("SFWIZARD_HOME", str(tmp_path))
    s = RecoverySession.new("gainsight-px")
    yield s
    s.release()


def _nav(session: RecoverySession, knowledge: bool | None = None) -> Navigator:
    return Navigator(load_profile(session.profile), session, check_steps=CHECK_STEPS,
                     conditions=lambda name: knowledge if name == "knowledge" else None)


def test_the_steps_run_in_the_runbooks_order_for_each_profile(session) -> None:
    assert [s.id for s in _nav(session).steps] == ["before", "connect", "impact", "mappings", "security",
                                                   "reauthorize", "sync", "validate", "knowledge", "troubleshoot",
                                                   "checklist", "report"]
    off = Navigator(load_profile("gainsight-px"), session, check_steps={}, conditions=lambda name: False)
    assert "security" not in [s.id for s in off.steps]  # offered only once the wizard shows its pane
    sj = RecoverySession.new("skilljar")
    try:
        nav = Navigator(load_profile("skilljar"), sj, check_steps={})
        assert "knowledge" not in [s.id for s in nav.steps]
        assert nav.step("sync").title == "Backfill"
    finally:
        sj.release()


def test_next_stays_shut_until_the_steps_checks_ran_passed_and_were_confirmed(session) -> None:
    nav = _nav(session)
    assert nav.gate().code == "check.not_run"
    with pytest.raises(GateClosed):
        nav.next()
    nav.record([_r("before.status_page", "fail", "an incident is open")])
    gate = nav.gate()
    assert (gate.open, gate.code, gate.check_id) == (False, "check.failed", "before.status_page")
    assert "an incident is open" in gate.reason
    nav.record([_r("before.status_page", "warn"), _r("before.people", "manual")])
    assert nav.gate().code == "confirm.needed"
    nav.confirm("before.people", "Avery", Actor.PLATFORM_ADMIN)
    assert nav.gate().open
    assert nav.next().id == "connect"
    assert session.completed == ["before"]


def test_a_fact_is_needed_before_checks_count(session) -> None:
    nav = _nav(session)
    session.step = "connect"
    nav.record([_r("before.salesforce_admin", "pass")])
    assert nav.gate().code == "fact.missing" and "sign in" in nav.gate().reason
    nav.note_fact("signed_in", "avery@example.com")
    assert nav.gate().open


def test_strict_checks_need_a_pass_not_a_warning(session) -> None:
    nav = _nav(session)
    session.step = "sync"
    nav.note_fact("sync_completed")
    nav.record([_r("token.platform_status", "warn", "UP, but no sync since")])
    assert nav.gate().code == "check.warned"
    nav.record([_r("token.platform_status", "pass")])
    assert nav.gate().open


def test_a_skip_needs_a_reason_is_recorded_and_back_returns_to_it(session) -> None:
    nav = _nav(session)
    with pytest.raises(SfwizardError):
        nav.skip("   ", "Avery")
    assert nav.skip("status page blocked by the proxy", "Avery  Admin").id == "connect"
    assert session.skips[-1]["reason"] == "status page blocked by the proxy"
    assert session.skips[-1]["who"] == "Avery Admin"
    assert nav.state("before").value == "skipped"
    assert nav.back().id == "before"
    assert nav.current_id == "before"


def test_unused_knowledge_is_passed_over_both_ways(session) -> None:
    nav = _nav(session, knowledge=False)
    session.step = "validate"
    nav.record([_r("flow.salesforce_to_platform", "pass"), _r("flow.platform_to_salesforce", "pass")])
    assert nav.next().id == "troubleshoot"
    assert nav.state("knowledge").value == "skipped"
    assert nav.back().id == "validate"
    unknown = _nav(session, knowledge=None)
    assert "knowledge" in [s.id for s in unknown.steps if unknown.applies(s)]


def test_the_side_list_cannot_jump_past_an_unfinished_step(session) -> None:
    nav = _nav(session)
    assert nav.can_go_to("before")
    assert not nav.can_go_to("impact")
    with pytest.raises(SfwizardError):
        nav.go_to("report")
    nav.skip("later", "Avery")
    assert nav.can_go_to("before") and nav.can_go_to("connect") and not nav.can_go_to("impact")


def test_every_outcome_is_saved_and_a_new_navigator_resumes_there(session) -> None:
    nav = _nav(session)
    nav.record([_r("before.status_page", "pass"), _r("before.people", "manual")])
    nav.confirm("before.people", "Avery", "platform_admin")
    nav.next()
    again = RecoverySession.load(session.id, lock=False)
    resumed = _nav(again)
    assert resumed.current_id == "connect"
    assert resumed.results["before.status_page"].status == Status.PASS
    assert resumed.confirmed("before.people")["who"] == "Avery"
    assert again.completed == ["before"]


def test_the_last_step_finishes_the_recovery(session) -> None:
    nav = _nav(session)
    session.step = "report"
    assert not nav.finished
    nav.note_fact("report_written", "/tmp/r.md")
    assert nav.next().id == "report"
    assert nav.finished and session.finished_at
    assert RecoverySession.latest("gainsight-px", unfinished=True) is None


# -- state that never goes stale, and pending that is not failing --------------------------------------------------

def _nav_with_basis(session: RecoverySession, basis: dict[str, str]) -> Navigator:
    nav = _nav(session)
    nav.use_basis(lambda: dict(basis))
    return nav


def test_a_result_judged_on_another_sign_in_is_dropped_and_its_step_reopened(session) -> None:
    basis = {"org": "00DA", "user": "005A", "snapshot": "s1"}
    nav = _nav_with_basis(session, basis)
    nav.record([_r("token.fresh", "pass"), _r("before.status_page", "pass")], dict(basis))
    session.completed += ["before", "connect", "impact", "mappings", "reauthorize"]
    assert nav.invalidate() == set()  # nothing changed: everything stands
    basis["org"] = "00DB"  # a new sign-in, another org
    gone = nav.invalidate()
    assert "token.fresh" in gone and "token.fresh" not in nav.results
    assert "token.fresh" not in [r["id"] for r in session.results]  # gone from what is saved too
    nav.reopen_steps_of(gone)
    assert "reauthorize" not in session.completed and not nav.can_go_to("sync")
    assert nav.gate("reauthorize").code == "check.not_run"  # it runs again; it never gates on the old org


def test_a_result_of_a_run_overtaken_by_a_change_is_never_recorded(session) -> None:
    basis = {"org": "00DA", "user": "005A"}
    nav = _nav_with_basis(session, basis)
    started_on = dict(basis)
    basis["org"] = "00DB"  # the sign-in changed while the run was under way
    kept = nav.record([_r("token.fresh", "fail", "no token in 00DA")], started_on)
    assert kept == [] and "token.fresh" not in nav.results


def test_pending_is_not_failing_until_the_person_acts_and_a_finding_comes_before_a_missing_fact(session) -> None:
    nav = _nav(session)
    session.step = "reauthorize"
    nav.record([CheckResult("token.fresh", "Token", Status.FAIL, "no token yet", step="reauthorize",
                            reason="token.not_granted"),
                CheckResult("identity.right_org", "Org", Status.PASS, "right org", step="reauthorize")])
    assert nav.pending("token.fresh") and nav.shown_status("token.fresh") == "pending"
    assert nav.gate("reauthorize").code == "action.pending"
    nav.note_fact("reauthorize_started")  # the person clicked Authorize
    assert not nav.pending("token.fresh") and nav.gate("reauthorize").code == "check.failed"
    # a reason that shows an attempt is red at once, action or not
    session.facts.pop("reauthorize_started")
    nav.record([CheckResult("token.fresh", "Token", Status.FAIL, "token of jo", step="reauthorize",
                            reason="token.other_user")])
    assert nav.gate("reauthorize").code == "check.failed"
    # the sync step: a finding (the sync ran and failed) is named before "first run the sync"
    session.step = "sync"
    nav.record([CheckResult("token.platform_status", "Platform", Status.FAIL, "DOWN: API_CURRENTLY_DISABLED",
                            step="sync", reason="token.platform_down")])
    session.completed.append("reauthorize")  # once the step is passed, its awaited reasons are findings
    gate = nav.gate("sync")
    assert gate.code == "check.failed" and "API_CURRENTLY_DISABLED" in gate.reason
