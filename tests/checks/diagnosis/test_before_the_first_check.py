"""A failure before the first check is still a diagnosis when it has one: the org's API limit used up, the signed-in
user's expired password, a deactivated or frozen signed-in user. Results are printed (table, --json, --json-lines),
the cause is named, the rest is skipped with why, exit 1. Exit 2 stays for "could not ask at all"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sfwizard.recovery.client import Endpoints
from sfwizard.recovery.connection import ConnectionDiagnosed, connect, diagnosable
from sfwizard.sandbox.scenarios.loader import diagnosis_suite

SUITE = {p.stem: p for p in diagnosis_suite()}
SALESFORCE_CHECKS = ("before.salesforce_admin", "identity.signed_in_org", "identity.org", "token.fresh",
                     "perm.api_enabled", "flow.salesforce_to_platform", "proactive.api_headroom", "knowledge.search")


def _used_up(scenario_file) -> str:
    return scenario_file("""
        schema: 1
        name: used-up
        extends: revoked-token
        orgs:
          prod:
            api: {max: 50000, used: 50000}
    """)


def test_a_used_up_limit_before_the_run_is_printed_as_results_with_the_limit_named(
        run_cli, scenario_file) -> None:
    code, out, err = run_cli("check", "--demo", "--scenario", _used_up(scenario_file), "--json")
    assert code == 1  # a diagnosis, not "could not run"
    doc = json.loads(out)
    assert doc["exit_code"] == 1
    by_id = {r["id"]: r for r in doc["results"]}
    first = by_id["before.salesforce_signin"]
    assert (first["status"], first["reason"]) == ("fail", "salesforce.limit_exceeded")
    assert first["evidence"]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert "24-hour" in first["resolution"]
    for cid in SALESFORCE_CHECKS:  # the rest skipped, saying why
        assert (by_id[cid]["status"], by_id[cid]["reason"]) == ("skipped", "skip.limit_exceeded"), cid
        assert "limit" in by_id[cid]["summary"]
    assert by_id["before.status_page"]["status"] == "pass"  # what needs no Salesforce still ran
    assert (by_id["ts.api_limit"]["status"], by_id["ts.api_limit"]["reason"]) == ("fail", "ts.api_limit")
    assert "REQUEST_LIMIT_EXCEEDED" in err and "results name the cause" in err  # one line on stderr says so


def test_the_same_diagnosis_streams_as_json_lines_and_prints_as_a_table(run_cli, scenario_file) -> None:
    path = _used_up(scenario_file)
    code, out, _ = run_cli("check", "--demo", "--scenario", path, "--json-lines")
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert lines[-1]["type"] == "run" and lines[-1]["exit_code"] == 1
    assert {"type": "result", "id": "before.salesforce_signin"}.items() <= lines[0].items() or any(
        line.get("id") == "before.salesforce_signin" and line["reason"] == "salesforce.limit_exceeded"
        for line in lines)
    code, out, _ = run_cli("check", "--demo", "--scenario", path)
    assert code == 1
    assert "FAIL  before.salesforce_signin" in out and "cause: the org's daily API requests are used up" in out
    code, out, _ = run_cli("check", "--demo", "--scenario", path, "--json", "--only", "token.fresh")
    doc = json.loads(out)
    assert code == 1 and [r["id"] for r in doc["results"]] == ["before.salesforce_signin", "token.fresh"]


def test_the_signed_in_users_expired_password_is_named_with_its_fix(check_json) -> None:
    doc = check_json(SUITE["onyx-admin-password-expired"])
    first = doc["by_id"]["before.salesforce_signin"]
    assert (first["status"], first["reason"]) == ("fail", "signin.password_expired")
    assert "INVALID_OPERATION_WITH_EXPIRED_PASSWORD" in first["cause"]
    assert "reset" in first["resolution"].lower() and "sfwizard login" in first["resolution"]
    assert doc["by_id"]["token.fresh"]["reason"] == "skip.password_expired"
    assert doc["exit_code"] == 1


def test_a_deactivated_signed_in_user_is_a_diagnosis_on_a_saved_sign_in(start_sandbox, sign_in) -> None:
    """The saved sign-in's token dies with the user; the refresh answers invalid_grant "inactive user"."""
    sb = start_sandbox("healthy")
    info = sb.info()
    tokens = sign_in(info)
    org = sb.state.default_org
    admin = org.user_by_username(info["username"])
    with sb.state.lock:
        admin["IsActive"] = False
    endpoints = Endpoints(instance_url=tokens.instance_url, access_token=tokens.access_token,
                          px_api_url=info["px_api_url"], px_api_key=info["px_api_key"],
                          status_url=info["status_url"], ca_cert=info["ca_cert"])
    with pytest.raises(ConnectionDiagnosed) as diagnosed:
        connect("gainsight-px", endpoints, tokens=tokens)
    results = {r.id: r for r in diagnosed.value.results}
    assert results["before.salesforce_signin"].reason == "signin.user_inactive"
    assert "reactivate" in results["before.salesforce_signin"].resolution
    assert results["perm.api_enabled"].reason == "skip.user_inactive"
    assert diagnosed.value.exit_code == 1
    assert "inactive user" in diagnosed.value.message  # still one SfwizardError line for callers that only print


def test_only_a_failure_that_names_its_cause_is_a_diagnosis() -> None:
    from sfwizard.errors import SfwizardError
    from sfwizard.integrations.salesforce import ApiError, ApiLimitExceeded, PasswordExpired, SalesforceUnreachable
    from sfwizard.integrations.signin import SignInRequired

    assert diagnosable(ApiLimitExceeded("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", 403))
    assert diagnosable(PasswordExpired("INVALID_OPERATION_WITH_EXPIRED_PASSWORD", "expired", 401))
    assert diagnosable(SignInRequired("inactive user"))
    assert not diagnosable(SignInRequired("expired access/refresh token"))  # could not ask at all: exit 2
    assert not diagnosable(SalesforceUnreachable("cannot reach"))
    assert not diagnosable(ApiError("INVALID_FIELD", "no such column", 400))
    assert not diagnosable(SfwizardError("not signed in"))


def test_the_wizard_records_the_diagnosis_for_the_connect_step(monkeypatch, tmp_path: Path) -> None:
    """Recovery._open: when connecting is refused this way, the results are recorded (the step shows them) and
    the exception still tells the screen that no connection is open."""
    from sfwizard.checks.base import CheckResult, Status
    from sfwizard.integrations.salesforce import ApiLimitExceeded
    from sfwizard.integrations.signin import TokenSet
    from sfwizard.recovery import wizard
    from sfwizard.recovery.session import RecoverySession

    result = CheckResult("before.salesforce_signin", "t", Status.FAIL, "limit", reason="salesforce.limit_exceeded",
                         step="connect")
    cause = ApiLimitExceeded("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", 403)

    def refused(*args, **kwargs):
        raise ConnectionDiagnosed(cause, [result], "gainsight-px", {"salesforce": 1})

    monkeypatch.setattr(wizard, "connect", refused)
    session = RecoverySession.new("gainsight-px")
    rec = wizard.Recovery("gainsight-px", wizard.SignInSetup(login_url="https://login.salesforce.com", client_id="c",
                                                              keep=False), session)
    try:
        with pytest.raises(ConnectionDiagnosed):
            rec._open(TokenSet(access_token="x", instance_url="https://example.my.salesforce.com",
                               login_url="https://login.salesforce.com", client_id="c"))
        assert rec.navigator.results["before.salesforce_signin"].reason == "salesforce.limit_exceeded"
        assert rec.connection is None
    finally:
        rec.close()
