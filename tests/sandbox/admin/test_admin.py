"""The clicks people make in the vendors' web UIs, driven through the admin page and /__sandbox__/ controls.

Authorize and Reconnect go through the sandbox's real login and Allow pages with an httpx client that
keeps cookies like a browser; Salesforce-side effects are read back with simple-salesforce.
"""

from __future__ import annotations

import html
import json
import re
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from simple_salesforce import Salesforce

from sfwizard.integrations.transport import tls_verify
from sfwizard.sandbox.px.api import account_id
from sfwizard.sandbox.scenarios.loader import load_scenario

ALLOW_PATH = "/setup/secur/RemoteAccessAuthorizationPage.apexp"


# -- helpers -----------------------------------------------------------------------------------------------

def _browser(info: dict[str, Any]) -> httpx.Client:
    return httpx.Client(verify=tls_verify(info["ca_cert"]), follow_redirects=False, timeout=10)


def _ctl(info: dict[str, Any], path: str) -> str:
    return info["admin_url"] + "__sandbox__/" + path


def _state(c: httpx.Client, info: dict[str, Any]) -> dict[str, Any]:
    return c.get(_ctl(info, "state")).json()


def _password(info: dict[str, Any], username: str) -> str:
    return next(u["password"] for u in info["users"] if u["username"] == username)


def _hidden(page: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert m, f"no hidden field {name} in {page[:300]}"
    return html.unescape(m.group(1))


def _approve(c: httpx.Client, info: dict[str, Any], start: httpx.Response, username: str | None,
             decision: str = "allow") -> httpx.Response:
    """Be the Salesforce admin in the browser: log in (unless a session is remembered), then Allow or Deny."""
    base = info["login_url"]
    assert start.status_code in (302, 303), start.text
    r = c.get(urljoin(base + "/", start.headers["location"]))
    if 'name="pw"' in r.text:
        assert username is not None
        r = c.post(base + "/services/oauth2/login", data={
            "tx": _hidden(r.text, "tx"), "csrf": _hidden(r.text, "csrf"), "username": username,
            "pw": _password(info, username)})
    assert r.status_code == 302, r.text[:300]
    assert ALLOW_PATH in r.headers["location"], r.text[:300]
    page = c.get(urljoin(base, r.headers["location"]))
    assert "Allow Access?" in page.text
    back = c.post(base + ALLOW_PATH, data={"tx": _hidden(page.text, "tx"), "csrf": _hidden(page.text, "csrf"),
                                           "decision": decision})
    assert back.status_code == 302
    assert "/__sandbox__/" in back.headers["location"]
    done = c.get(back.headers["location"])  # the platform's callback redeems the code
    assert done.status_code == 302
    assert done.headers["location"] == "/"
    return done


def _authorize(c: httpx.Client, info: dict[str, Any], kind: str = "px", username: str | None = None,
               decision: str = "allow") -> httpx.Response:
    start = c.get(_ctl(info, f"{kind}/authorize"))
    return _approve(c, info, start, username or info["integration_username"], decision)


def _salesforce(info: dict[str, Any], ca_session: Any) -> Salesforce:
    """The Salesforce admin's own API session (password grant), to look at what the platforms wrote."""
    r = ca_session.post(info["login_url"] + "/services/oauth2/token", data={
        "grant_type": "password", "client_id": info["client_id"], "client_secret": info["client_secret"],
        "username": info["username"], "password": info["password"]})
    assert r.status_code == 200, r.text
    tok = r.json()
    return Salesforce(instance_url=tok["instance_url"], session_id=tok["access_token"], session=ca_session,
                      version=info["api_version"])


def _px(c: httpx.Client, info: dict[str, Any], path: str) -> Any:
    r = c.get(info["px_api_url"] + path, headers={"X-APTRINSIC-API-KEY": info["px_api_key"]})
    assert r.status_code == 200, r.text
    return r.json()


def _monitoring(c: httpx.Client, info: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    rows = _px(c, info, "/admin/monitoring/integrations")["integrationStatuses"]
    # PX's API has no Knowledge row: the Knowledge state is read from the admin page's (the vendor UI's) state.
    k = c.get(_ctl(info, "state")).json()["px"]["knowledge"]
    return rows[0], {"currentStatus": k["status"], "lastError": k["last_error"]}


def _wait_sync(c: httpx.Client, info: dict[str, Any], seen: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        job = c.get(_ctl(info, "px/sync")).json()
        if seen is not None:
            seen.append(job)
        if job["state"] != "RUNNING":
            return job
        time.sleep(0.04)  # polling a job that runs on the clock, bounded by the deadline
    raise AssertionError("the sync did not finish")


def _scenario(name: str, sync_s: float = 0.2):
    state = load_scenario(name)
    if state.platform is not None:
        state.platform.integration.sync_duration_s = sync_s
    return state


def _since(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the page ------------------------------------------------------------------------------------------------

def test_page_shows_the_cards_and_escapes_what_it_echoes(start_sandbox) -> None:
    state = _scenario("revoked-token")
    state.default_org.name = "<script>alert(1)</script> Traders"
    state.scenario_description = "desc <b>bold</b>"
    info = start_sandbox(state).info()
    with _browser(info) as c:
        page = c.get(info["admin_url"])
    text = page.text
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<script>alert(1)" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Traders" in text
    assert "<b>bold</b>" not in text
    assert "&lt;b&gt;bold&lt;/b&gt;" in text
    assert "Not authorized" in text
    assert "INVALID_SESSION_ID" in text
    for action in ("/__sandbox__/px/authorize", "/__sandbox__/px/sync", "/__sandbox__/px/revoke",
                   "/__sandbox__/px/knowledge"):
        assert f'action="{action}"' in text
    assert 'name="categories" value="Products.Analytics" checked' in text  # the org's categories, ticked ones
    assert 'name="accessibility" value="Partner">' in text
    assert "Skilljar" not in text  # a PX scenario has no Skilljar card


def test_state_summary_carries_no_secret(start_sandbox, assert_no_leak) -> None:
    sb = start_sandbox("healthy")
    info = sb.info()
    with _browser(info) as c:
        body = c.get(_ctl(info, "state")).text
    store = sb.state.oauth
    secrets = [*store.access, *store.refresh, info["client_secret"], info["px_api_key"],
               *(u["password"] for u in info["users"])]
    assert len(secrets) > 5
    assert_no_leak({"the state summary": body}, secrets)
    px = json.loads(body)["px"]
    assert px["username"] == info["integration_username"]
    assert px["status"] == "UP"


# -- Authorize -------------------------------------------------------------------------------------------------

def test_authorize_round_trip_through_login_and_allow(start_sandbox, ca_session) -> None:
    sb = start_sandbox(_scenario("revoked-token"))
    info = sb.info()
    started = datetime.now(timezone.utc)
    with _browser(info) as c:
        start = c.get(_ctl(info, "px/authorize"))
        q = {k: v[0] for k, v in parse_qs(urlsplit(start.headers["location"]).query).items()}
        assert urlsplit(start.headers["location"]).path == "/services/oauth2/authorize"
        assert q["code_challenge_method"] == "S256"
        assert len(q["code_challenge"]) == 43
        assert q["state"]
        assert q["redirect_uri"] == info["admin_url"] + "__sandbox__/px/oauth/callback"
        assert q["client_id"] != info["client_id"]  # PX's own connected app, not the wizard's
        _approve(c, info, start, info["integration_username"])
        px = _state(c, info)["px"]
        page = c.get(info["admin_url"]).text
        sf_row, _ = _monitoring(c, info)
        replay = c.get(_ctl(info, f"px/oauth/callback?state={q['state']}&code=x"))
    assert (px["status"], px["authorized"], px["username"], px["last_error"]) == \
        ("UP", True, info["integration_username"], None)
    assert px["org_id"] == info["org_id"]
    assert sf_row["currentStatus"] == "UP"
    assert sf_row["lastError"] is None
    assert "Authorized" in page
    assert "authorized against Northwind Traders" in page
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_state"
    sf = _salesforce(info, ca_session)
    user_id = sb.state.platform.integration.user_id
    tokens = sf.query(f"SELECT UserId, CreatedDate FROM OauthToken WHERE AppName = 'Gainsight PX' "
                      f"AND UserId = '{user_id}'")["records"]
    logins = sf.query(f"SELECT Status, Application FROM LoginHistory WHERE UserId = '{user_id}' "
                      f"AND LoginTime >= {_since(started)}")["records"]
    assert len(tokens) == 1
    assert ("Success", "Gainsight PX") in [(r["Status"], r["Application"]) for r in logins]


def test_deny_leaves_it_down_with_access_denied(start_sandbox) -> None:
    info = start_sandbox(_scenario("revoked-token")).info()
    with _browser(info) as c:
        _authorize(c, info, decision="deny")
        px = _state(c, info)["px"]
        page = c.get(info["admin_url"]).text
        assert c.post(_ctl(info, "px/sync")).status_code == 409
    assert (px["status"], px["authorized"]) == ("DOWN", False)
    assert px["last_error"].startswith("access_denied")
    assert "authorization refused: access_denied" in page


def test_unknown_callback_state_is_refused(sandbox) -> None:
    info = sandbox.info()
    with _browser(info) as c:
        r = c.get(_ctl(info, "px/oauth/callback?state=made-up&code=abc"))
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_state"


def test_wrong_org_authorize_moves_px_data_only_at_the_next_sync(start_sandbox) -> None:
    sb = start_sandbox(_scenario("wrong-org"))
    info = sb.info()
    orgs = sb.state.orgs
    prod_ids = {r["Id"] for r in orgs["prod"].table("Account").scan()}
    uat_ids = {r["Id"] for r in orgs["uat"].table("Account").scan()}
    with _browser(info) as c:
        _authorize(c, info, username=None)  # the remembered UAT session goes straight to Allow
        px = _state(c, info)["px"]
        before = {a["sfdcId"] for a in _px(c, info, "/accounts?pageSize=1000")["accounts"]}
        assert c.post(_ctl(info, "px/sync")).status_code == 202
        job = _wait_sync(c, info)
        after = {a["sfdcId"] for a in _px(c, info, "/accounts?pageSize=1000")["accounts"]}
    assert px["org_is_sandbox"] is True
    assert px["username"].endswith(".uat")
    assert px["data_org_id"] == info["org_id"]
    assert before == prod_ids
    assert job["state"] == "COMPLETED"
    assert after == uat_ids


# -- Synchronize ------------------------------------------------------------------------------------------------

def test_synchronize_shows_progress_and_brings_px_current(start_sandbox, ca_session) -> None:
    sb = start_sandbox(_scenario("revoked-token", sync_s=1.0))
    info = sb.info()
    stale_id, old = next((k, v) for k, v in sb.state.platform.synced.items() if k.startswith("001"))
    sf = _salesforce(info, ca_session)
    live = sf.Account.get(stale_id)
    with _browser(info) as c:
        before_px = _px(c, info, f"/accounts/{account_id(stale_id)}")  # PX's own id, not the sfdcId
        before_mon, _ = _monitoring(c, info)
        refused = c.post(_ctl(info, "px/sync"))  # not authorized yet
        assert refused.status_code == 409
        assert refused.json()["reason"].startswith("the Salesforce card shows Not authorized")
        _authorize(c, info)
        stale_before = _state(c, info)["px"]["stale_records"]
        t0 = time.time() * 1000
        started = c.post(_ctl(info, "px/sync"))
        assert started.status_code == 202
        assert started.json()["state"] == "RUNNING"
        assert c.post(_ctl(info, "px/sync")).status_code == 409  # one at a time
        assert "sync-bar" in c.get(info["admin_url"]).text
        seen: list[dict[str, Any]] = []
        job = _wait_sync(c, info, seen)
        after_px = _px(c, info, f"/accounts/{account_id(stale_id)}")
        after_mon, _ = _monitoring(c, info)
        after_state = _state(c, info)["px"]
    assert stale_before > 0
    assert after_state["stale_records"] == 0
    assert after_state["records_processed"] > 48210
    assert after_state["last_error"] is None
    assert (before_px["industry"], before_px["numberOfEmployees"]) == (old["industry"], old["numberOfEmployees"])
    assert (before_px["industry"], before_px["numberOfEmployees"]) != (live["Industry"], live["NumberOfEmployees"])
    assert (after_px["industry"], after_px["numberOfEmployees"]) == (live["Industry"], live["NumberOfEmployees"])
    assert any(0 < j["done"] < j["total"] for j in seen)  # visible progress on the way
    progress = [j["progress"] for j in seen]
    # Accounts, Contacts and the mapped custom object (150 + 420 + 90 Subscriptions).
    assert progress == sorted(progress)
    assert job["state"] == "COMPLETED"
    assert job["done"] == job["total"] == 660
    assert after_mon["currentStatus"] == "UP"
    assert after_mon["lastError"] is None
    assert after_mon["lastSuccessfulDate"] >= t0 > before_mon["lastSuccessfulDate"]
    assert after_mon["numberOfRecordsProcessed"] > before_mon["numberOfRecordsProcessed"]
    user_id = sb.state.platform.integration.user_id
    pushed = sf.query(f"SELECT Id, PX_Health_Score__c, PX_Last_Seen__c FROM Account "
                      f"WHERE LastModifiedById = '{user_id}' AND PX_Health_Score__c != null")["records"]
    assert len(pushed) == 150
    assert job["pushed"] == 150 + 420  # Accounts' and Contacts' PX_ fields
    one = next(r for r in pushed if r["Id"] == stale_id)
    assert one["PX_Health_Score__c"] == after_px["healthScore"]  # what PX shows is what it pushed


def test_push_into_a_field_without_the_prefix_fails(start_sandbox, ca_session) -> None:
    sb = start_sandbox(_scenario("push-missing-prefix"))
    info = sb.info()
    started = datetime.now(timezone.utc)
    with _browser(info) as c:
        assert c.post(_ctl(info, "px/sync")).status_code == 202
        job = _wait_sync(c, info)
        mon, _ = _monitoring(c, info)
    assert job["state"] == "FAILED"
    assert job["error"] == mon["lastError"] == "Push failed: field Account.Health_Score__c is not a PX_ field"
    sf = _salesforce(info, ca_session)
    user_id = sb.state.platform.integration.user_id
    written = sf.query(f"SELECT COUNT() FROM Account WHERE LastModifiedById = '{user_id}' "
                       f"AND LastModifiedDate >= {_since(started)}")["totalSize"]
    assert written == 0  # the push is checked before anything is written, so no field got half a sync


def test_push_into_a_field_the_user_cannot_edit_fails(start_sandbox) -> None:
    state = _scenario("healthy")
    org = state.default_org
    for fp in org.table("FieldPermissions").scan():
        if fp["Field"] == "Account.PX_Health_Score__c":
            fp["PermissionsEdit"] = False
    org.invalidate_access()
    info = start_sandbox(state).info()
    with _browser(info) as c:
        c.post(_ctl(info, "px/sync"))
        job = _wait_sync(c, info)
    assert job["state"] == "FAILED"
    assert "INVALID_FIELD_FOR_INSERT_UPDATE" in job["error"]
    assert "PX_Health_Score__c" in job["error"]


def test_sync_as_a_user_without_api_enabled_fails(start_sandbox) -> None:
    info = start_sandbox(_scenario("missing-permissions")).info()
    with _browser(info) as c:
        _authorize(c, info)
        c.post(_ctl(info, "px/sync"))
        job = _wait_sync(c, info)
        mon, _ = _monitoring(c, info)
    assert job["error"].startswith("API_CURRENTLY_DISABLED")
    assert mon["currentStatus"] == "DOWN"


def test_advisory_during_a_sync_fails_it_and_kills_the_token(start_sandbox) -> None:
    sb = start_sandbox(_scenario("healthy", sync_s=0.5))
    info = sb.info()
    token = sb.state.platform.integration.access_token
    with _browser(info) as c:
        assert c.post(_ctl(info, "px/sync")).status_code == 202
        revoked = c.post(_ctl(info, "px/revoke")).json()
        job = _wait_sync(c, info)
        api = c.get(info["instance_url"] + f"/services/data/v{info['api_version']}/limits",
                    headers={"Authorization": f"Bearer {token}"})
        px = _state(c, info)["px"]
        again = c.post(_ctl(info, "px/sync"))  # no sync with a revoked token, as in the real thing
    assert again.status_code == 409
    assert revoked["revoked"] >= 2
    assert revoked["status"] == "DOWN"
    assert job["state"] == "FAILED"
    assert job["error"] == "INVALID_SESSION_ID: Session expired or invalid"
    assert api.status_code == 401
    assert api.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    assert (px["status"], px["authorized"]) == ("DOWN", False)
    assert px["disconnected_at"]
    assert not [r for r in sb.state.default_org.table("OauthToken").scan() if r["AppName"] == "Gainsight PX"]


# -- Knowledge Center -------------------------------------------------------------------------------------------

def test_knowledge_toggle_categories_and_accessibility(start_sandbox) -> None:
    info = start_sandbox("knowledge-off").info()
    url = _ctl(info, "px/knowledge")
    with _browser(info) as c:
        _, kc_off = _monitoring(c, info)
        bad_cat = c.post(url, json={"enabled": True, "categories": ["Products.Nope"]})
        bad_acc = c.post(url, json={"enabled": True, "accessibility": ["Everyone"]})
        ok = c.post(url, json={"enabled": True, "categories": ["products.analytics", "Regions.EMEA"],
                               "accessibility": ["Public", "Partner"]})
        _, kc_on = _monitoring(c, info)
        saved = c.get(url).json()
        # The page's form: nothing ticked but the hidden marker turns the toggle off again.
        form = c.post(url, data={"knowledge_form": "1", "categories": "Products.Analytics"},
                      headers={"Accept": "text/html"})
        assert form.headers["location"] == "/"
        page = c.get(info["admin_url"]).text
        after_form = c.get(url).json()
    assert kc_off["currentStatus"] == "DOWN"
    assert "disabled" in kc_off["lastError"]
    assert bad_cat.status_code == 400
    assert "Products.Nope" in bad_cat.json()["reason"]
    assert bad_acc.status_code == 400
    assert "Everyone" in bad_acc.json()["reason"]
    assert ok.status_code == 200
    assert ok.json()["categories"] == ["Products.Analytics", "Regions.EMEA"]
    assert kc_on["currentStatus"] == "UP"
    assert kc_on["lastError"] is None
    assert saved["enabled"] is True
    assert saved["accessibility"] == ["Public", "Partner"]
    assert form.status_code == 303
    assert "Knowledge Center settings saved" in page
    assert (after_form["enabled"], after_form["categories"], after_form["accessibility"]) == \
        (False, ["Products.Analytics"], [])


def test_knowledge_needs_the_data_integration_first(start_sandbox) -> None:
    info = start_sandbox(_scenario("revoked-token")).info()
    with _browser(info) as c:
        c.post(_ctl(info, "px/knowledge"), json={"enabled": False})
        refused = c.post(_ctl(info, "px/knowledge"), json={"enabled": True})
        _authorize(c, info)
        allowed = c.post(_ctl(info, "px/knowledge"), json={"enabled": True})
    assert refused.status_code == 409
    assert "authorize" in refused.json()["reason"]
    assert allowed.status_code == 200


# -- Skilljar -----------------------------------------------------------------------------------------------------

def test_skilljar_reconnect_then_one_backfill_per_disconnect(start_sandbox, ca_session) -> None:
    sb = start_sandbox("skilljar-recent")
    info = sb.info()
    sj_state = sb.state.skilljar
    last_sync, pending = sj_state.last_sync_at, len(sj_state.pending)
    started = datetime.now(timezone.utc)
    with _browser(info) as c:
        before = _state(c, info)["skilljar"]
        page = c.get(info["admin_url"]).text
        early = c.post(_ctl(info, "skilljar/backfill"))
        reconnect = c.post(_ctl(info, "skilljar/reconnect"))
        assert reconnect.json()["authorize_url"].startswith(info["login_url"] + "/services/oauth2/authorize?")
        _approve(c, info, reconnect, info["integration_username"])
        connected = _state(c, info)["skilljar"]
        done = c.post(_ctl(info, "skilljar/backfill"))
        again = c.post(_ctl(info, "skilljar/backfill"))
        page_after = c.get(info["admin_url"]).text
        # A new disconnect brings the button back, as the runbook says.
        c.post(_ctl(info, "skilljar/revoke"))
        offered_again = _state(c, info)["skilljar"]["backfill_offered"]
    assert before["status"] == "disconnected"
    assert before["backfill_offered"]
    assert pending == 35
    assert "integration is disconnected" in page
    assert 'action="/__sandbox__/skilljar/backfill"' in page
    assert early.status_code == 409
    assert "Reconnect" in early.json()["reason"]
    assert connected["status"] == "connected"
    assert connected["username"] == info["integration_username"]
    body = done.json()
    assert done.status_code == 200
    assert body["records"] == 35
    assert body["window_start"] == last_sync.isoformat(timespec="seconds")
    assert again.status_code == 409
    assert "already caught up" in again.json()["reason"]
    assert 'action="/__sandbox__/skilljar/backfill"' not in page_after
    assert "35 record(s)" in page_after
    assert offered_again is True
    sf = _salesforce(info, ca_session)
    user_id = sb.state.skilljar.user_id
    students = sf.query(f"SELECT COUNT() FROM skilljar__Student__c WHERE LastModifiedById = '{user_id}' "
                        f"AND LastModifiedDate >= {_since(started)}")["totalSize"]
    progress = sf.query(f"SELECT COUNT() FROM skilljar__Course_Progress__c WHERE CreatedById = '{user_id}' "
                        f"AND CreatedDate >= {_since(started)}")["totalSize"]
    assert students == progress == 35


def test_skilljar_backfill_refused_past_21_days(start_sandbox) -> None:
    info = start_sandbox("skilljar-expired").info()
    with _browser(info) as c:
        _approve(c, info, c.post(_ctl(info, "skilljar/reconnect")), info["integration_username"])
        sj = _state(c, info)["skilljar"]
        r = c.post(_ctl(info, "skilljar/backfill"))
        page = c.get(info["admin_url"]).text
        from_page = c.post(_ctl(info, "skilljar/backfill"), headers={"Accept": "text/html"})
        notice = c.get(info["admin_url"]).text
    assert sj["status"] == "connected"
    assert not sj["backfill_offered"]
    assert r.status_code == 409
    assert r.json()["error"] == "not_offered"
    assert "30 days" in r.json()["reason"]
    assert "Skilljar Support" in r.json()["reason"]
    assert 'action="/__sandbox__/skilljar/backfill"' not in page
    assert "Skilljar Support" in page
    assert from_page.status_code == 303
    assert 'class="notice error"' in notice


@pytest.mark.parametrize(("scenario", "path"), [("healthy", "skilljar/backfill"), ("healthy", "skilljar/revoke"),
                                                 ("skilljar-recent", "px/sync"),
                                                 ("skilljar-recent", "px/knowledge")])
def test_controls_explain_what_a_scenario_lacks(start_sandbox, scenario: str, path: str) -> None:
    info = start_sandbox(scenario).info()
    with _browser(info) as c:
        r = c.post(_ctl(info, path), json={})
    assert r.status_code == 404
    assert r.json()["error"] == "not_configured"
    assert "no " in r.json()["reason"]
