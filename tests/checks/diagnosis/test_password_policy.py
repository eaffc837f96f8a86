"""Password expiry from what Salesforce shows — Password Never Expires, the profile's policy, the org's —
with 90 days assumed only when nothing shows it, and the evidence saying so."""

from __future__ import annotations

import pytest

from sfwizard.integrations.salesforce import ApiError, SalesforceAPI
from sfwizard.sandbox.scenarios.loader import diagnosis_suite

SUITE = {p.stem: p for p in diagnosis_suite()}


def _age(check_json, path) -> dict:
    return check_json(path, "--only", "proactive.password_age")["by_id"]["proactive.password_age"]


def test_a_365_day_org_policy_is_read_not_guessed(check_json) -> None:
    r = _age(check_json, SUITE["tidewater-password-policy-365"])
    assert r["status"] == "pass" and r["evidence"]["age_days"] == 100
    assert (r["evidence"]["expiry_days"], r["evidence"]["expiry_source"]) == (365, "org password policy")
    assert "assumed_expiry_days" not in r["evidence"] and "days before the 365-day policy" in r["summary"]


def test_password_never_expires_on_a_permission_set(check_json) -> None:
    r = _age(check_json, SUITE["sable-password-never-expires"])
    assert r["status"] == "pass" and r["evidence"]["expiry_days"] is None
    assert "never expires" in r["summary"] and "Gainsight PX Integration" in r["evidence"]["expiry_source"]


def test_the_profiles_policy_overrides_the_orgs(check_json, scenario_file) -> None:
    path = scenario_file("""
        schema: 1
        name: profile-policy
        extends: healthy
        orgs:
          prod:
            password_expiry_days: 60
            profiles:
              Minimum Access - API Only Integrations: {api_enabled: false, password_expiry_days: 365}
            users:
              integration: {password_changed: -85d}
    """)
    r = _age(check_json, path)
    assert r["status"] == "pass" and r["evidence"]["expiry_days"] == 365
    assert r["evidence"]["expiry_source"] == "profile password policy (Minimum Access - API Only Integrations)"


def test_an_org_policy_that_never_expires(check_json, scenario_file) -> None:
    path = scenario_file("""
        schema: 1
        name: never
        extends: healthy
        orgs:
          prod:
            password_expiry_days: 0
            users:
              integration: {password_changed: -400d}
    """)
    r = _age(check_json, path)
    assert r["status"] == "pass" and r["evidence"]["expiry_days"] is None
    assert r["evidence"]["expiry_source"] == "org password policy"


def test_a_short_policy_still_warns_with_its_date(check_json, scenario_file) -> None:
    path = scenario_file("""
        schema: 1
        name: short
        extends: healthy
        orgs:
          prod:
            password_expiry_days: 30
            users:
              integration: {password_changed: -25d}
    """)
    r = _age(check_json, path)
    assert (r["status"], r["reason"]) == ("warn", "proactive.password_expiring")
    assert "30-day policy (org password policy)" in r["summary"] and r["evidence"]["expires"]


def test_90_days_only_when_nothing_shows_the_policy_and_the_evidence_says_so(check_json, monkeypatch) -> None:
    def refused(self, soql):
        raise ApiError("INSUFFICIENT_ACCESS", "insufficient access rights: View Setup and Configuration", 403)

    monkeypatch.setattr(SalesforceAPI, "tooling_query", refused)
    r = _age(check_json, SUITE["tidewater-password-policy-365"])
    ev = r["evidence"]
    assert (ev["expiry_days"], ev["assumed_expiry_days"]) == (90, 90) and ev["expiry_source"].startswith("assumed")
    assert ev["policy_unavailable"] == ["ProfilePasswordPolicy: INSUFFICIENT_ACCESS",
                                        "SecuritySettings: INSUFFICIENT_ACCESS"]
    assert (r["status"], r["reason"]) == ("warn", "proactive.password_expiring") and "assumed" in r["summary"]


@pytest.mark.parametrize("soql,status,code", [
    ("SELECT Id, Metadata FROM SecuritySettings LIMIT 1", 200, None),
    ("SELECT Id, Metadata FROM ProfilePasswordPolicy", 400, "MALFORMED_QUERY"),  # Metadata: one row a query
    ("SELECT Id FROM ProfilePasswordPolicy", 200, None),
    ("SELECT Id FROM PasswordPolicy", 400, "INVALID_TYPE"),
    ("SELECT Id, Expiration FROM SecuritySettings", 400, "INVALID_FIELD"),
])
def test_the_sandbox_tooling_api_serves_the_policies(start_sandbox, ca_session, scenario_file, soql, status,
                                                      code) -> None:
    from sfwizard.demo import demo_sign_in

    sb = start_sandbox(scenario_file("""
        schema: 1
        name: tooling
        extends: healthy
        orgs:
          prod:
            password_expiry_days: 180
            profiles:
              Standard User: {password_expiry_days: 30}
              Minimum Access - API Only Integrations: {api_enabled: false, password_expiry_days: 0}
    """))
    info = sb.info()
    token = demo_sign_in(info).access_token
    resp = ca_session.get(f"{info['instance_url']}/services/data/v{info['api_version']}/tooling/query",
                          params={"q": soql}, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == status, resp.text
    if code:
        assert resp.json()[0]["errorCode"] == code
    elif "SecuritySettings" in soql:
        (row,) = resp.json()["records"]
        assert row["Metadata"]["passwordPolicies"]["expiration"] == "SixMonths"
    else:
        assert resp.json()["totalSize"] == 2
