"""The fixes people make in Salesforce Setup, the platform's mapping and the status page, as the sandbox's
stand-in pages make them: each changes what Salesforce (or the platform) would change, so the checks see the fix
exactly as they would see a person's — read back here through the real REST API and the checks themselves.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sfwizard.integrations.transport import tls_verify


def _post(info: dict[str, Any], path: str, body: dict[str, Any], **kw: Any) -> httpx.Response:
    with httpx.Client(verify=tls_verify(info["ca_cert"]), timeout=10) as c:
        return c.post(info["admin_url"] + "__sandbox__/" + path, json=body, **kw)


def _checks(info: dict[str, Any], *ids: str) -> dict[str, Any]:
    from sfwizard.demo import open_sandbox

    with open_sandbox(info) as conn:
        return {r.id: r for r in conn.client.run_checks(conn.context(), only=list(ids))}


@pytest.fixture
def mp(start_sandbox):
    return start_sandbox("missing-permissions")


def test_granting_api_enabled_and_access_is_what_the_checks_see(mp) -> None:
    info = mp.info()
    user = info["integration_username"]
    before = _checks(info, "perm.api_enabled", "perm.edit_targets")
    assert before["perm.api_enabled"].reason == "perm.api_disabled"
    said = _post(info, "salesforce/grant", {"username": user, "api_enabled": True}).json()
    assert said["permission_set"] == "Gainsight PX Integration" and "api enabled" in said["granted"]
    resp = _post(info, "salesforce/grant", {"username": user, "objects": {"Account": ["edit"], "Contact": ["edit"]},
                                            "fields": {"Account.PX_Health_Score__c": ["edit"],
                                                       "Account.PX_Active_Users__c": ["edit"],
                                                       "Account.PX_Last_Seen__c": ["edit"],
                                                       "Contact.PX_Last_Login__c": ["edit"]}})
    assert resp.status_code == 200, resp.text
    after = _checks(info, "perm.api_enabled", "perm.edit_targets")
    assert after["perm.api_enabled"].status.value == "pass"
    assert after["perm.edit_targets"].status.value == "pass"


def test_a_grant_for_what_does_not_exist_is_refused_with_a_reason(mp) -> None:
    info = mp.info()
    for body, words in (({"username": "nobody@x"}, "no user"),
                        ({"username": info["integration_username"], "objects": {"Nope__c": ["read"]}}, "no object"),
                        ({"username": info["integration_username"], "fields": {"Account.Nope__c": ["read"]}},
                         "no field")):
        resp = _post(info, "salesforce/grant", body)
        assert resp.status_code == 404 and words in resp.json()["reason"]


def test_reactivate_reset_password_and_revoke_a_token(start_sandbox) -> None:
    sb = start_sandbox("healthy")
    info = sb.info()
    rep = next(u["username"] for u in info["users"] if u["role"] == "rep")
    org, user = sb.state.org_of_user(rep)
    user["IsActive"] = False
    assert _post(info, "salesforce/reactivate", {"username": rep}).json()["message"].endswith("active again")
    assert user["IsActive"] is True
    old = sb.state.passwords[(org.key, rep.lower())]
    said = _post(info, "salesforce/password", {"username": rep}).json()
    assert said["password"] != old and sb.state.passwords[(org.key, rep.lower())] == said["password"]
    # the integration's grant, revoked for its user: the token dies and OAuth Usage no longer lists it
    integ = info["integration_username"]
    tokens = [t for t in org.table("OauthToken").scan() if t["AppName"] == "Gainsight PX"]
    assert tokens
    said = _post(info, "salesforce/revoke-token", {"username": integ, "app": "Gainsight PX"}).json()
    assert said["revoked"] >= 1
    assert not [t for t in org.table("OauthToken").scan() if t["AppName"] == "Gainsight PX"]


def test_the_remap_and_the_all_clear(start_sandbox) -> None:
    sb = start_sandbox("push-missing-prefix")
    info = sb.info()
    said = _post(info, "px/remap", {"salesforce": "Account.Health_Score__c"}).json()
    assert said["to"] == "Account.PX_Health_Score__c"
    assert any(m.salesforce == "Account.PX_Health_Score__c" for m in sb.state.platform.integration.mappings)
    assert _post(info, "px/remap", {"salesforce": "Account.Nope__c"}).status_code == 404
    incident = start_sandbox("status-incident")
    i2 = incident.info()
    assert _checks(i2, "before.status_page")["before.status_page"].reason == "status.integration_affected"
    assert _post(i2, "status/all-clear", {}).json()["indicator"] == "none"
    assert _checks(i2, "before.status_page")["before.status_page"].status.value == "pass"


def test_the_setup_page_lists_users_grants_and_apps_and_a_form_post_comes_back_to_it(mp) -> None:
    info = mp.info()
    with httpx.Client(verify=tls_verify(info["ca_cert"]), timeout=10) as c:
        page = c.get(info["admin_url"] + "setup").text
        assert "Salesforce Setup" in page and info["integration_username"] in page
        assert "Grant API Enabled" in page and "Reset password (and unlock)" in page
        assert "Connected Apps OAuth Usage" in page
        for u in info["users"]:
            assert u["password"] not in page
        resp = c.post(info["admin_url"] + "__sandbox__/salesforce/password",
                      data={"username": info["integration_username"]}, headers={"Accept": "text/html"})
        assert resp.status_code == 303 and resp.headers["location"] == "/setup"
        shown = c.get(info["admin_url"] + "setup").text
        assert "was reset and the user unlocked" in shown
        assert "password&quot;" not in shown and '"password"' not in shown  # a page never shows a password
        assert "setup" in c.get(info["admin_url"]).text  # the vendors' page links to it
