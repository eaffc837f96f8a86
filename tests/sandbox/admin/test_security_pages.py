"""The Setup stand-ins at /__sandbox__/security: each hardening step as JSON (programs) and as a form (a person),
refusing what Salesforce's Setup would refuse, recorded in the Setup Audit Trail, and hostile names kept as text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sfwizard.checks.security_proposal import Proposal
from sfwizard.integrations.transport import tls_verify
from sfwizard.recovery.permission_set import permission_set_xml


@pytest.fixture
def page(start_sandbox) -> Iterator[Any]:
    clients: list[httpx.Client] = []

    def make(scenario: str = "skilljar-recent") -> tuple[Any, httpx.Client]:
        sb = start_sandbox(scenario)
        c = httpx.Client(verify=tls_verify(sb.info()["ca_cert"]), timeout=10, follow_redirects=False)
        clients.append(c)
        return sb, c

    yield make
    for c in clients:
        c.close()


def _url(sb: Any, action: str = "") -> str:
    return f"{sb.base_url}/__sandbox__/security" + (f"/{action}" if action else "")


def _org(state: dict[str, Any]) -> dict[str, Any]:
    return state["orgs"][0]


def test_the_page_and_its_json_show_the_apps_ranges_and_users(page) -> None:
    sb, c = page()
    html_page = c.get(_url(sb))
    assert html_page.status_code == 200 and "text/html" in html_page.headers["content-type"]
    assert "Skilljar" in html_page.text and "<script" not in html_page.text
    state = c.get(_url(sb, "state")).json()
    org = _org(state)
    assert {a["name"] for a in org["connected_apps"]} >= {"Skilljar"}
    sync = next(u for u in org["users"] if u["username"] == "skilljar.sync@brightpath.example")
    assert (sync["role"], sync["permission_sets"], sync["api_only"]) == ("integration", ["Skilljar_Integration"], False)
    assert "DeleteToken" not in html_page.text and "DeleteToken" not in str(state)


def test_each_action_answers_json_and_lands_in_the_setup_audit_trail(page) -> None:
    sb, c = page()
    org = sb.state.default_org
    before = len(org.table("SetupAuditTrail"))
    assert c.post(_url(sb, "connected-app"), json={"app": "Skilljar", "admin_approved": True,
                                                   "approved": ["Skilljar Integration"]}).status_code == 200
    assert c.post(_url(sb, "refresh-policy"), json={"app": "Skilljar", "policy": "expire_if_unused", "period": 30,
                                                    "unit": "days"}).status_code == 200
    ranges = c.post(_url(sb, "login-ip-ranges"), json={"profile": "Minimum Access - API Only Integrations",
                                                       "ranges": ["34.201.12.0/24"]})
    assert ranges.json()["ranges"] == [{"start": "34.201.12.0", "end": "34.201.12.255"}]
    assert c.post(_url(sb, "api-only"), json={"user": "skilljar.sync@brightpath.example"}).json()["api_only"] is True
    shown = [r["Display"] for r in org.table("SetupAuditTrail").scan()][before:]
    assert any("Skilljar" in d and "Admin approved" in d for d in shown)
    assert any("refresh token policy" in d for d in shown)
    assert any("skilljar.sync@brightpath.example" in d for d in shown)
    row = next(r for r in org.table("ConnectedApplication").scan() if r["Name"] == "Skilljar")
    assert (row["OptionsAllowAdminApprovedUsersOnly"], row["OptionsRefreshTokenValidityMetric"],
            row["RefreshTokenValidityPeriod"]) == (True, True, 30)


@pytest.mark.parametrize("action, body, status, words", [
    ("connected-app", {"app": "Nope", "admin_approved": True, "approved": []}, 404, "no connected app"),
    ("connected-app", {"app": "Skilljar", "admin_approved": True, "approved": ["Ghosts"]}, 400, "Ghosts"),
    ("refresh-policy", {"app": "Skilljar", "policy": "expire_after"}, 400, "needs a period"),
    ("refresh-policy", {"app": "Skilljar", "policy": "forever"}, 400, "policy is"),
    ("login-ip-ranges", {"profile": "Minimum Access - API Only Integrations", "ranges": ["10.0.0.9-10.0.0.1"]}, 400,
     "10.0.0.9"),
    ("api-only", {"user": "nobody@x.example"}, 404, "nobody@x.example"),
    ("permission-set", {"name": "Bad Name!", "xml": "<x/>"}, 400, "not a permission set API name"),
    ("permission-set", {"name": "Ok_Name", "xml": "<not xml"}, 400, "not XML"),
])
def test_what_setup_would_refuse_is_refused_with_a_reason(page, action: str, body: dict[str, Any], status: int,
                                                          words: str) -> None:
    sb, c = page()
    resp = c.post(_url(sb, action), json=body)
    assert resp.status_code == status, resp.text
    assert words in resp.json()["reason"]


def test_a_permission_set_naming_a_field_the_org_lacks_is_not_deployed(page) -> None:
    sb, c = page()
    xml = permission_set_xml(Proposal("Probe_Set", "Probe", "probe", objects={"Account": frozenset({"read"})},
                                      fields={"Account.No_Such_Field__c": frozenset({"read"})}))
    resp = c.post(_url(sb, "permission-set"), json={"name": "Probe_Set", "xml": xml})
    assert resp.status_code == 400
    assert "Account.No_Such_Field__c" in resp.json()["reason"]
    assert not any(ps["Name"] == "Probe_Set" for ps in sb.state.default_org.table("PermissionSet").scan())


def test_the_xml_itself_may_be_the_body(page) -> None:
    sb, c = page()
    xml = permission_set_xml(Proposal("Probe_Set", "Probe", "probe", objects={"Account": frozenset({"read"})}))
    resp = c.post(_url(sb, "permission-set"),
                  params={"name": "Probe_Set", "assign_to": "skilljar.sync@brightpath.example"},
                  content=xml.encode(), headers={"content-type": "application/xml"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["assigned_to"] == "skilljar.sync@brightpath.example"


def test_a_form_post_comes_back_to_the_page_with_the_outcome_once(page) -> None:
    sb, c = page()
    resp = c.post(_url(sb, "refresh-policy"), data={"app": "Skilljar", "policy": "expire_if_unused", "period": "7",
                                                    "unit": "days"}, headers={"accept": "text/html"})
    assert resp.status_code == 303 and resp.headers["location"] == "/__sandbox__/security"
    shown = c.get(_url(sb)).text
    assert "refresh token policy saved" in shown
    assert "refresh token policy saved" not in c.get(_url(sb)).text  # shown once


def test_a_hostile_profile_name_stays_text_on_the_page(page) -> None:
    sb, c = page()
    hostile = "<script>alert(1)</script>"
    with sb.state.lock:
        for p in sb.state.default_org.table("Profile").scan():
            if p["Name"] == "Minimum Access - API Only Integrations":
                p["Name"] = hostile
    text = c.get(_url(sb)).text
    assert hostile not in text and "&lt;script&gt;" in text
