"""Causes named only from the evidence that shows them, the most specific first: a refused login's own status, the
Salesforce error code the platform relays, the permission rows — "Access Denied" only for a missing permission,
and what follows from a named cause reported as its consequence with that cause's fix."""

from __future__ import annotations

import re

import pytest

from sfwizard.checks import causes
from sfwizard.sandbox.scenarios.loader import diagnosis_suite

SUITE = {p.stem: p for p in diagnosis_suite()}
PERMISSION_WORDS = re.compile(r"permission|API Enabled|field-level|Access Denied|object access", re.I)


def test_an_expired_password_names_no_missing_permission_and_its_fix_is_reset_then_reauthorize(check_json) -> None:
    doc = check_json(SUITE["juniper-expired-password"])
    failing = [r for r in doc["results"] if r["status"] in ("fail", "warn")]
    assert failing
    for r in failing:  # no result sends the admin to permissions
        assert not r["reason"].startswith("perm."), r["id"]
        assert r["reason"] != "ts.access_denied", r["id"]
        assert not PERMISSION_WORDS.search(r["cause"] + " " + r["summary"]), (r["id"], r["cause"])
    named = [r for r in failing if r["reason"] in ("token.password_expired", "proactive.password_expired",
                                                    "ts.login_refused")
             or r["evidence"].get("salesforce_error_code") == "INVALID_OPERATION_WITH_EXPIRED_PASSWORD"]
    assert {r["id"] for r in named} >= {"token.fresh", "token.platform_status", "proactive.password_age",
                                          "ts.login_refused"}
    for r in named:  # reset, or a policy that never expires it — then re-authorize as the integration user
        fix = r["resolution"]
        assert "Reset Password" in fix and "never expires" in fix, r["id"]
        assert fix.index("never expires") < fix.index("authorize again"), r["id"]
        assert fix.rstrip().endswith("logged in as the integration user"), r["id"]
    stale = doc["by_id"]["ts.stale_data"]  # stale because the platform cannot log in: its consequence
    assert (stale["status"], stale["reason"]) == ("skipped", "skip.consequence")
    assert "Reset Password" in stale["resolution"]


@pytest.mark.parametrize("status,reason", [
    ("Password Expired", "token.password_expired"), ("Failed: Password Expired", "token.password_expired"),
    ("Password Lockout", "token.password_locked"), ("Password Locked Out", "token.password_locked"),
    ("Invalid Password", "token.invalid_password"), ("User Is Frozen", "token.user_frozen"),
    ("User is Inactive", "token.user_inactive"), ("Failed: Connected App Not Installed", "token.app_blocked"),
    ("Failed: Computer activation required", "token.login_failed"),
])
def test_each_refusal_status_names_its_own_cause(status: str, reason: str) -> None:
    found = causes.login_cause(status)
    assert found.reason == reason
    cause, fix = found.words(app="Gainsight PX", status=status)
    assert status in cause or reason == "token.app_blocked"
    assert "API Enabled" not in fix  # no refusal is a missing permission


def test_the_most_specific_refusal_wins_over_a_newer_vaguer_one(check_json, scenario_file) -> None:
    path = scenario_file("""
        schema: 1
        name: two-refusals
        extends: revoked-token
        orgs:
          prod:
            login_history:
              - {user: integration, app: gainsight, at: -3h, status: Password Lockout}
              - {user: integration, app: gainsight, at: -1h, status: "Failed: something new"}
    """)
    r = check_json(path, "--only", "token.fresh,ts.login_refused")["by_id"]
    assert r["token.fresh"]["reason"] == "token.password_locked"
    assert r["token.fresh"]["evidence"]["refused_login"]["status"] == "Password Lockout"
    assert r["ts.login_refused"]["status"] == "fail"


@pytest.mark.parametrize("text,code", [
    ("INVALID_OPERATION_WITH_EXPIRED_PASSWORD: Your password has expired.", "INVALID_OPERATION_WITH_EXPIRED_PASSWORD"),
    ("sync failed (API_CURRENTLY_DISABLED: API is disabled for this User)", "API_CURRENTLY_DISABLED"),
    ('{"error":"invalid_grant","error_description":"expired access/refresh token"}', "invalid_grant"),
    ("REQUEST_LIMIT_EXCEEDED", "REQUEST_LIMIT_EXCEEDED"),
    ("the password expired yesterday", None),  # words are no code: nothing is read into them
    ("XINVALID_SESSION_IDX", None), ("Access denied", None),
])
def test_only_a_salesforce_code_standing_whole_in_the_platforms_error_names_a_cause(text: str,
                                                                                  code: str | None) -> None:
    assert causes.error_code_in(text) == code


def test_the_platforms_down_names_the_relayed_code_and_not_a_revoked_token(check_json) -> None:
    r = check_json(SUITE["lumen-api-disabled"], "--only", "token.platform_status")["by_id"]["token.platform_status"]
    assert r["evidence"]["salesforce_error_code"] == "API_CURRENTLY_DISABLED"
    assert "API Enabled" in r["cause"] and "revoked" not in r["cause"]


def test_down_without_a_code_names_no_cause_of_its_own(check_json, scenario_file) -> None:
    path = scenario_file("""
        schema: 1
        name: down-no-code
        extends: revoked-token
        platform:
          last_error: "Sync failed, please contact support"
    """)
    r = check_json(path, "--only", "token.platform_status")["by_id"]["token.platform_status"]
    assert r["status"] == "fail" and "salesforce_error_code" not in r["evidence"]
    assert "names no Salesforce error code" in r["cause"] and "revoked" not in r["cause"]


def test_access_denied_only_for_a_missing_permission(check_json) -> None:
    locked = check_json(SUITE["keystone-locked-out"])["by_id"]
    assert locked["ts.access_denied"]["status"] == "pass"
    assert locked["ts.login_refused"]["status"] == "fail"
    both = check_json(SUITE["yarrow-locked-and-missing-edit"])["by_id"]
    assert both["ts.access_denied"]["evidence"]["reasons"] == ["perm.field_edit_missing"]
    assert both["ts.login_refused"]["evidence"]["reasons"] == ["token.password_locked"]


def test_stale_data_from_a_missing_read_is_its_consequence_with_its_fix(check_json) -> None:
    r = check_json(SUITE["meridian-missing-read"])["by_id"]
    stale = r["ts.stale_data"]
    assert (stale["status"], stale["reason"]) == ("skipped", "skip.consequence")
    assert stale["evidence"]["explained_by"][0] == "ts.access_denied"
    assert "Account.Customer_Tier__c" in stale["resolution"]  # the cause's own fix: the Read to grant
    flow = r["flow.salesforce_to_platform"]
    assert flow["reason"] == "flow.stale" and "INVALID_FIELD" in flow["cause"]  # the relayed code, named


def test_missing_permissions_no_longer_blame_a_revoked_token_for_the_stale_data(check_json) -> None:
    """The built-in missing-permissions: API Enabled is gone, so the data is stale as its consequence."""
    r = check_json("missing-permissions")["by_id"]
    assert (r["ts.stale_data"]["status"], r["ts.stale_data"]["reason"]) == ("skipped", "skip.consequence")
    assert r["ts.access_denied"]["status"] == "fail"
    assert "API Enabled" in r["ts.stale_data"]["resolution"]


def test_a_formula_push_target_is_named_as_such_and_not_as_a_permission(check_json) -> None:
    r = check_json(SUITE["tessera-formula-push-target"])["by_id"]
    push = r["mapping.push_targets"]
    assert push["evidence"]["formula_fields"][0]["field"] == "Account.PX_Health_Tier__c"
    assert "formula field" in push["cause"] and "IF(PX_Health_Score__c" in push["cause"]
    assert r["perm.edit_targets"]["status"] == "pass"
