"""The objects a security review reads, served as Salesforce serves them (docs/security-objects.md): who sees which
rows, what a user without the permission gets, the EventLogFile blob, revoke by DeleteToken, and the login server
enforcing admin-approved users, profile login IP ranges and refresh-token policies."""

from __future__ import annotations

import html
import re
import ssl
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sfwizard.sandbox.admin import hardening
from sfwizard.sandbox.salesforce import security as sec
from sfwizard.sandbox.salesforce.tokens import Grant, token_store

REDIRECT = "http://localhost:1717/OauthRedirect"


class Org:
    """A running sec-* scenario: its users by role, a client, queries and grants as any of them."""

    def __init__(self, sb: Any, client: httpx.Client) -> None:
        self.sb, self.state, self.c = sb, sb.state, client
        self.org = self.state.default_org
        self.roles = {role: self.org.user(uid)["Username"] for (_k, uid), role in self.state.user_roles.items()}
        self.app_id = self.state.app_keys["gainsight"]
        self.app = self.state.connected_apps[self.app_id]
        self._tokens: dict[str, str] = {}

    def from_here(self) -> None:
        """The integration user's profile admits this machine (127.0.0.1) besides the vendor's range."""
        profile = self.org.table("Profile").get(self.user("integration")["ProfileId"])["Name"]
        with self.state.lock:
            hardening.set_login_ip_ranges(self.state, self.org, profile, ["34.201.12.0/24", "127.0.0.1"])

    def user(self, role: str) -> dict[str, Any]:
        return self.org.user_by_username(self.roles[role])

    def token(self, role: str) -> str:
        if role not in self._tokens:
            grant = Grant(self.org.key, self.user(role)["Id"], self.state.app_keys["sfwizard"])
            with self.state.lock:
                self._tokens[role] = token_store(self.state).issue(self.state, grant, with_refresh=False)[0].token
        return self._tokens[role]

    def query(self, soql: str, role: str = "admin") -> httpx.Response:
        return self.c.get(f"{self.sb.base_url}/services/data/v60.0/query", params={"q": soql},
                          headers={"Authorization": f"Bearer {self.token(role)}"})

    def rows(self, soql: str, role: str = "admin") -> list[dict[str, Any]]:
        resp = self.query(soql, role)
        assert resp.status_code == 200, resp.text
        return resp.json()["records"]

    def count(self, soql: str, role: str = "admin") -> int:
        resp = self.query(soql, role)
        assert resp.status_code == 200, resp.text
        return resp.json()["totalSize"]

    def password_grant(self, role: str = "integration") -> httpx.Response:
        username = self.roles[role]
        return self.c.post(f"{self.sb.base_url}/services/oauth2/token", data={
            "grant_type": "password", "username": username, "client_id": self.app_id,
            "client_secret": self.app.client_secret,
            "password": self.state.passwords[(self.org.key, username.lower())]})


@pytest.fixture
def running(start_sandbox, tls_certs) -> Iterator[Any]:
    clients: list[httpx.Client] = []

    def make(scenario: str = "diagnosis/sec-clean-integration") -> Org:
        c = httpx.Client(verify=ssl.create_default_context(cafile=str(tls_certs.ca_cert)), timeout=10)
        clients.append(c)
        return Org(start_sandbox(scenario), c)

    yield make
    for c in clients:
        c.close()


def _error(resp: httpx.Response) -> str:
    assert resp.status_code == 400, resp.text
    return resp.json()[0]["errorCode"]


# -- who sees what --------------------------------------------------------------------------------------------------

def test_login_history_shows_everyone_to_manage_users_and_only_their_own_to_others(running) -> None:
    o = running("diagnosis/sec-stray-tokens")
    integration = o.user("integration")["Id"]
    soql = f"SELECT COUNT() FROM LoginHistory WHERE UserId = '{integration}'"
    assert o.count(soql, "admin") > 0
    assert o.count(soql, "rep") == 0  # API 37.0+: their own rows only, not an error
    assert _error(o.query("SELECT Id, LoginGeoId FROM LoginHistory LIMIT 1", "rep")) == "INVALID_FIELD"
    assert _error(o.query("SELECT City FROM LoginGeo LIMIT 1", "rep")) == "INVALID_TYPE"
    geo = o.rows(f"SELECT SourceIp, LoginGeo.Country, LoginGeo.City FROM LoginHistory WHERE UserId = "
                 f"'{integration}' LIMIT 1")
    assert geo[0]["LoginGeo"]["Country"]


def test_oauth_tokens_every_users_for_customize_application_else_ones_own(running) -> None:
    o = running("diagnosis/sec-stray-tokens")
    soql = "SELECT UserId, AppName, DeleteToken FROM OauthToken WHERE AppName = 'Gainsight PX'"
    every = o.rows(soql, "admin")
    assert {r["UserId"] for r in every} == {o.user("rep")["Id"], o.user("admin")["Id"]}
    assert all(r["DeleteToken"] for r in every)
    own = o.rows(soql, "rep")
    assert [r["UserId"] for r in own] == [o.user("rep")["Id"]]


@pytest.mark.parametrize("sobject", ["SetupAuditTrail", "EventLogFile", "SetupEntityAccess", "ConnectedApplication",
                                     "LoginIpRange"])
def test_setup_objects_are_refused_to_a_user_without_the_permission(running, sobject: str) -> None:
    o = running()
    assert _error(o.query(f"SELECT Id FROM {sobject}", "rep")) == "INVALID_TYPE"
    assert o.query(f"SELECT Id FROM {sobject}", "admin").status_code == 200


# -- EventLogFile -------------------------------------------------------------------------------------------------

def test_event_log_files_answer_their_log_file_as_a_blob_url_and_a_csv(running) -> None:
    o = running()
    row = o.rows("SELECT Id, EventType, LogDate, LogFile, LogFileLength FROM EventLogFile WHERE EventType = 'RestApi' "
                 "ORDER BY LogDate DESC LIMIT 1")[0]
    assert row["Id"].startswith("0AT")
    assert row["LogFile"] == f"/services/data/v60.0/sobjects/EventLogFile/{row['Id']}/LogFile"
    resp = o.c.get(o.sb.base_url + row["LogFile"], headers={"Authorization": f"Bearer {o.token('admin')}"})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    header, *lines = resp.text.splitlines()
    assert header.startswith('"EVENT_TYPE","TIMESTAMP","REQUEST_ID","ORGANIZATION_ID","USER_ID"')
    assert "CLIENT_IP" in header
    assert lines and all(line.startswith('"RestApi",') for line in lines)  # one row per REST call that day
    assert row["LogFileLength"] == len(resp.content)


def test_without_event_monitoring_a_day_of_free_event_types_only(running) -> None:
    o = running("diagnosis/sec-no-event-monitoring")
    rows = o.rows("SELECT EventType, LogDate FROM EventLogFile")
    assert {r["EventType"] for r in rows} <= set(sec.FREE_EVENT_TYPES)
    assert len({r["LogDate"][:10] for r in rows}) <= sec.RETENTION_DAYS["none"]


# -- revoke by DeleteToken --------------------------------------------------------------------------------------------

def test_revoke_with_a_delete_token_removes_the_row_and_kills_every_token_of_the_grant(running) -> None:
    o = running("diagnosis/sec-stray-tokens")
    rep = o.user("rep")["Id"]
    live = [t.token for t in token_store(o.state).access.values()
            if (t.grant.user_id, t.grant.client_id) == (rep, o.app_id) and not t.revoked]
    delete = o.rows(f"SELECT DeleteToken FROM OauthToken WHERE UserId = '{rep}'")[0]["DeleteToken"]
    resp = o.c.post(f"{o.sb.base_url}/services/oauth2/revoke", data={"token": delete})
    assert resp.status_code == 200
    assert o.rows(f"SELECT Id FROM OauthToken WHERE UserId = '{rep}'") == []
    dead = o.c.get(f"{o.sb.base_url}/services/data/v60.0/limits", headers={"Authorization": f"Bearer {live[0]}"})
    assert dead.status_code == 401 and dead.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    again = o.c.post(f"{o.sb.base_url}/services/oauth2/revoke", data={"token": delete})
    assert again.status_code == 400
    assert parse_qs(again.text)["error"] == ["unsupported_token_type"]


# -- the login server's policies ---------------------------------------------------------------------------------------

def _hidden(page: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert m, name
    return html.unescape(m.group(1))


def test_a_user_the_admin_did_not_approve_is_refused_on_authorize_and_at_the_token_endpoint(running) -> None:
    o = running()  # admin approved: the integration user's permission set and System Administrator
    o.from_here()
    assert o.password_grant("integration").status_code == 200
    refused = o.password_grant("rep")
    assert refused.status_code == 400
    assert refused.json() == {"error": "invalid_app_access",
                              "error_description": "user is not admin approved to access this app"}
    with httpx.Client(verify=ssl.create_default_context(cafile=o.sb.info()["ca_cert"]), timeout=10) as browser:
        page = browser.get(f"{o.sb.base_url}/services/oauth2/authorize", params={
            "response_type": "code", "client_id": o.app_id, "redirect_uri": REDIRECT, "scope": "api refresh_token"})
        rep = o.roles["rep"]
        done = browser.post(f"{o.sb.base_url}/services/oauth2/login", data={
            "tx": _hidden(page.text, "tx"), "csrf": _hidden(page.text, "csrf"), "username": rep,
            "pw": o.state.passwords[(o.org.key, rep.lower())]})
    assert done.status_code == 302
    q = {k: v[0] for k, v in parse_qs(urlsplit(done.headers["location"]).query).items()}
    assert q == {"error": "OAUTH_APP_ACCESS_DENIED",
                 "error_description": "user is not admin approved to access this app"}


def test_a_login_from_outside_the_profiles_ip_ranges_is_refused_and_recorded(running) -> None:
    o = running()
    profile = o.org.table("Profile").get(o.user("integration")["ProfileId"])["Name"]
    with o.state.lock:
        hardening.set_login_ip_ranges(o.state, o.org, profile, ["10.0.0.0/8"])  # the test runs from 127.0.0.1
    refused = o.password_grant("integration")
    assert refused.status_code == 400
    assert refused.json() == {"error": "invalid_grant", "error_description": "ip restricted"}
    last = o.rows(f"SELECT Status, SourceIp FROM LoginHistory WHERE UserId = '{o.user('integration')['Id']}' "
                  "ORDER BY LoginTime DESC LIMIT 1")[0]
    assert (last["Status"], last["SourceIp"]) == ("Restricted IP", "127.0.0.1")
    with o.state.lock:
        hardening.set_login_ip_ranges(o.state, o.org, profile, [{"start": "127.0.0.1", "end": "127.0.0.1"}])
    assert o.password_grant("integration").status_code == 200


@pytest.mark.parametrize("policy, unused_days, refused", [
    ("expire_if_unused", 100, True), ("expire_if_unused", 10, False), ("until_revoked", 1000, False)])
def test_a_refresh_token_past_its_apps_policy_is_expired(running, policy: str, unused_days: int,
                                                          refused: bool) -> None:
    o = running()
    o.from_here()
    integration = o.user("integration")["Id"]
    with o.state.lock:
        row = sec.app_row(o.org, "Gainsight PX")
        sec.set_refresh_policy(o.state, row, policy, 90 if policy != "until_revoked" else None, "days")
        access, refresh = token_store(o.state).issue(o.state, Grant(o.org.key, integration, o.app_id),
                                                     with_refresh=True)
        assert refresh is not None
        then = o.state.now() - timedelta(days=unused_days)
        refresh.issued_at = access.issued_at = then
        sec.security_state(o.state).refresh_last_used[refresh.token] = then
    resp = o.c.post(f"{o.sb.base_url}/services/oauth2/token", data={
        "grant_type": "refresh_token", "refresh_token": refresh.token, "client_id": o.app_id,
        "client_secret": o.app.client_secret})
    if refused:
        assert resp.status_code == 400
        assert resp.json() == {"error": "invalid_grant", "error_description": "expired access/refresh token"}
    else:
        assert resp.status_code == 200, resp.text
