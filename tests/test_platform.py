"""The platform side through httpx: PX API, status page, admin clicks, Skilljar backfill, faults, the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest

from sfwizard.demo import approve_in_sandbox
from sfwizard.transport import tls_verify


def _client(info: dict[str, Any]) -> httpx.Client:
    return httpx.Client(verify=tls_verify(info["ca_cert"]), timeout=10)


def _px(c: httpx.Client, info: dict[str, Any], path: str, **params: Any) -> httpx.Response:
    return c.get(info["px_api_url"] + path, params=params, headers={"X-APTRINSIC-API-KEY": info["px_api_key"]})


def _state(c: httpx.Client, info: dict[str, Any]) -> dict[str, Any]:
    return c.get(info["admin_url"] + "__sandbox__/state").json()


def _authorize(c: httpx.Client, info: dict[str, Any], kind: str, username: str) -> None:
    """The platform admin clicks Authorize/Reconnect; the named Salesforce user logs in and clicks Allow."""
    r = c.get(info["admin_url"] + f"__sandbox__/{kind}/authorize")
    assert r.status_code == 302
    user = next(u for u in info["users"] if u["username"] == username)
    approve_in_sandbox(info["login_url"] + r.headers["location"], {**info, **user})


def _wait_sync(c: httpx.Client, info: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        job = c.get(info["admin_url"] + "__sandbox__/px/sync").json()
        if job["state"] != "RUNNING":
            return job
        time.sleep(0.05)  # polling a background job, bounded by the deadline
    raise AssertionError("sync did not finish")


def _short_sync(state):
    state.platform.integration.sync_duration_s = 0.3
    return state


# -- PX API -------------------------------------------------------------------------------------------------

def test_px_api_needs_the_key(sandbox) -> None:
    info = sandbox.info()
    with _client(info) as c:
        assert c.get(info["px_api_url"] + "/accounts").status_code == 401
        assert c.get(info["px_api_url"] + "/accounts", headers={"X-APTRINSIC-API-KEY": "wrong"}).status_code == 401


def test_px_accounts_page_by_scroll_id_to_a_short_last_page(sandbox) -> None:
    info = sandbox.info()
    seen, pages, scroll = [], 0, None
    with _client(info) as c:
        while True:
            params = {"pageSize": 40, **({"scrollId": scroll} if scroll else {})}
            body = _px(c, info, "/accounts", **params).json()
            seen += body["accounts"]
            pages += 1
            scroll = body["scrollId"]
            if len(body["accounts"]) < 40:
                break
    assert pages >= 3 and len(seen) == 150 and len({a["sfdcId"] for a in seen}) == 150
    assert all(a["sfdcId"].startswith("001") for a in seen)


def test_px_page_size_over_1000_refused_and_users_carry_contact_ids(sandbox) -> None:
    info = sandbox.info()
    with _client(info) as c:
        assert _px(c, info, "/accounts", pageSize=1001).status_code == 400
        users = _px(c, info, "/users", pageSize=5).json()["users"]
        assert len(users) == 5 and all(u["sfdcContactId"].startswith("003") and u["email"] for u in users)


def test_px_attribute_model_lists_every_mapped_target(sandbox) -> None:
    info = sandbox.info()
    with _client(info) as c:
        account = {a["apiName"] for a in _px(c, info, "/admin/model/account/attributes").json()}
        user = {a["apiName"] for a in _px(c, info, "/admin/model/user/attributes").json()}
    assert {"name", "industry", "healthScore", "activeUsers", "customerTier"} <= account
    assert {"email", "firstName", "title"} <= user


def test_revoked_token_scenario_reports_down_with_stale_accounts(start_sandbox) -> None:
    sb = start_sandbox("revoked-token")
    info = sb.info()
    with _client(info) as c:
        status = _px(c, info, "/admin/monitoring/integrations").json()["integrationStatuses"][0]
        assert status["currentStatus"] == "DOWN" and "INVALID_SESSION_ID" in status["lastError"]
        stale_id, old = next((k, v) for k, v in sb.state.platform.synced.items() if k.startswith("001"))
        px = _px(c, info, f"/accounts/{stale_id}").json()
        live = sb.state.default_org.table("Account").get(stale_id)
        assert px["industry"] == old["industry"] != live["Industry"] or \
            px["numberOfEmployees"] == old["numberOfEmployees"] != live["NumberOfEmployees"]


def test_px_429_fault_answers_retry_after(start_sandbox, caplog) -> None:
    sb = start_sandbox("healthy", faults=["px-429=1.0"])
    info = sb.info()
    with _client(info) as c:
        r = _px(c, info, "/accounts")
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert "fault: 429" in caplog.text and info["px_api_key"] not in caplog.text


# -- status page ---------------------------------------------------------------------------------------------

def test_status_page_shapes_and_an_unresolved_incident(start_sandbox) -> None:
    info = start_sandbox("status-incident").info()
    with _client(info) as c:
        status = c.get(info["status_url"] + "/api/v2/status.json").json()
        summary = c.get(info["status_url"] + "/api/v2/summary.json").json()
        unresolved = c.get(info["status_url"] + "/api/v2/incidents/unresolved.json").json()
        page = c.get(info["status_url"] + "/").text
    assert status["status"] == {"indicator": "major", "description": "Partial System Outage"}
    assert {"id", "name", "url", "time_zone", "updated_at"} <= set(status["page"])
    comps = {x["name"]: x["status"] for x in summary["components"]}
    assert comps["Salesforce Integration"] == "partial_outage"
    inc = unresolved["incidents"][0]
    assert inc["status"] == "identified" and inc["impact"] == "major" and len(inc["incident_updates"]) == 2
    assert inc["incident_updates"][0]["status"] == "identified"  # newest first, as Statuspage orders them
    assert "Salesforce integration sync failures" in page


# -- admin clicks ---------------------------------------------------------------------------------------------

def test_admin_page_escapes_server_text(start_sandbox) -> None:
    from sfwizard.sandbox.scenario import load_scenario

    state = load_scenario("healthy")
    state.default_org.name = "<script>alert(1)</script>"
    info = start_sandbox(state).info()
    with _client(info) as c:
        page = c.get(info["admin_url"]).text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_authorize_then_synchronize_restores_the_integration(start_sandbox) -> None:
    from sfwizard.sandbox.scenario import load_scenario

    sb = start_sandbox(_short_sync(load_scenario("revoked-token")))
    info = sb.info()
    integ_user = info["integration_username"]
    with _client(info) as c:
        assert c.post(info["admin_url"] + "__sandbox__/px/sync").status_code == 409  # not authorized yet
        _authorize(c, info, "px", integ_user)
        px = _state(c, info)["px"]
        assert (px["status"], px["authorized"], px["username"]) == ("UP", True, integ_user)
        assert px["stale_records"] > 0
        assert c.post(info["admin_url"] + "__sandbox__/px/sync").status_code == 202
        assert c.post(info["admin_url"] + "__sandbox__/px/sync").status_code == 409  # one at a time
        job = _wait_sync(c, info)
        assert job["state"] == "COMPLETED" and job["done"] == job["total"] > 0 and job["pushed"] > 0
        px = _state(c, info)["px"]
        assert px["stale_records"] == 0 and px["records_processed"] > 48210 and px["last_error"] is None
    org = sb.state.default_org
    rows = [r for r in org.table("Account").scan() if r.get("PX_Health_Score__c") is not None]
    user_id = sb.state.platform.integration.user_id
    assert rows and all(r["LastModifiedById"] == user_id for r in rows)
    tokens = [t for t in org.table("OauthToken").scan() if t["AppName"] == "Gainsight PX"]
    assert tokens and tokens[0]["UserId"] == user_id
    logins = [r for r in org.table("LoginHistory").scan() if r["Application"] == "Gainsight PX"
              and r["LoginTime"] >= sb.state.platform.integration.disconnected_at]
    assert logins and logins[-1]["Status"] == "Success"


def test_wrong_org_can_really_happen(start_sandbox) -> None:
    sb = start_sandbox("wrong-org")
    info = sb.info()
    with _client(info) as c:
        r = c.get(info["admin_url"] + "__sandbox__/px/authorize")
        # The remembered browser session goes straight to Allow as the UAT admin: one click, wrong org.
        approve_in_sandbox(info["login_url"] + r.headers["location"], info)
        px = _state(c, info)["px"]
    assert px["org_is_sandbox"] is True and px["username"].endswith(".uat")


def test_sync_fails_with_last_error_on_a_push_without_prefix(start_sandbox) -> None:
    from sfwizard.sandbox.scenario import load_scenario

    sb = start_sandbox(_short_sync(load_scenario("push-missing-prefix")))
    info = sb.info()
    with _client(info) as c:
        c.post(info["admin_url"] + "__sandbox__/px/sync")
        job = _wait_sync(c, info)
        px = _state(c, info)["px"]
    assert job["state"] == "FAILED" and "Account.Health_Score__c" in job["error"] and "PX_" in px["last_error"]


def test_sync_with_a_revoked_token_fails_like_the_real_thing(start_sandbox) -> None:
    from sfwizard.sandbox.scenario import load_scenario

    sb = start_sandbox(_short_sync(load_scenario("healthy")))
    info = sb.info()
    with _client(info) as c:
        assert c.post(info["admin_url"] + "__sandbox__/px/revoke").json()["revoked"] >= 1
        assert _state(c, info)["px"]["status"] == "DOWN"
        assert c.post(info["admin_url"] + "__sandbox__/px/sync").status_code == 409


def test_knowledge_toggle_validates_categories(start_sandbox) -> None:
    info = start_sandbox("knowledge-off").info()
    with _client(info) as c:
        url = info["admin_url"] + "__sandbox__/px/knowledge"
        assert c.post(url, json={"enabled": True, "categories": ["Products.Nope"]}).status_code == 400
        ok = c.post(url, json={"enabled": True, "categories": ["Products.Analytics"], "accessibility": ["Public"]})
        assert ok.status_code == 200 and ok.json()["enabled"] is True
        assert _state(c, info)["px"]["knowledge"]["categories"] == ["Products.Analytics"]


def test_skilljar_backfill_within_21_days_once_per_disconnect(start_sandbox) -> None:
    sb = start_sandbox("skilljar-recent")
    info = sb.info()
    url = info["admin_url"] + "__sandbox__/skilljar/backfill"
    with _client(info) as c:
        refused = c.post(url)
        assert refused.status_code == 409 and "Reconnect" in refused.json()["reason"]
        _authorize(c, info, "skilljar", info["integration_username"])
        sj = _state(c, info)["skilljar"]
        assert sj["status"] == "connected" and sj["backfill_offered"]
        done = c.post(url).json()
        assert done["records"] == 35
        again = c.post(url)
        assert again.status_code == 409 and "already caught up" in again.json()["reason"]
    org = sb.state.default_org
    user_id = sb.state.skilljar.user_id
    assert sum(1 for r in org.table("skilljar__Student__c").scan()
               if r["LastModifiedById"] == user_id and r["LastModifiedDate"] >= sb.state.loaded_at) == 35


def test_skilljar_backfill_refused_past_21_days(start_sandbox) -> None:
    info = start_sandbox("skilljar-expired").info()
    with _client(info) as c:
        sj = _state(c, info)["skilljar"]
        r = c.post(info["admin_url"] + "__sandbox__/skilljar/backfill")
    assert not sj["backfill_offered"] and "Skilljar Support" in sj["backfill_reason"]
    assert r.status_code == 409 and "30 days" in r.json()["reason"]


# -- faults ----------------------------------------------------------------------------------------------------

def test_error_fault_answers_5xx_as_salesforce_does(start_sandbox, caplog) -> None:
    info = start_sandbox("healthy", faults=["error=1.0:500"]).info()
    with _client(info) as c:
        r = c.get(info["instance_url"] + "/services/data/v60.0/limits", headers={"Authorization": "Bearer x"})
    assert r.status_code == 500 and r.json()[0]["errorCode"] == "UNKNOWN_EXCEPTION"
    assert "fault: 500" in caplog.text


def test_drop_fault_closes_the_connection(start_sandbox, caplog) -> None:
    info = start_sandbox("healthy", faults=["drop=1.0"]).info()
    with _client(info) as c, pytest.raises(httpx.TransportError):
        c.get(info["status_url"] + "/api/v2/status.json")
    assert "fault: dropped connection" in caplog.text


def test_latency_fault_delays_answers(start_sandbox) -> None:
    info = start_sandbox("healthy", faults=["latency=150"]).info()
    with _client(info) as c:
        t0 = time.monotonic()
        c.get(info["status_url"] + "/api/v2/status.json")
        assert time.monotonic() - t0 >= 0.15


def test_scenario_faults_block_applies(tmp_path) -> None:
    from sfwizard.sandbox.scenario import load_scenario

    path = tmp_path / "flaky.yaml"
    path.write_text("schema: 1\nname: flaky\nextends: healthy\nfaults: {error: '0.2:503', expire-token: 5}\n")
    state = load_scenario(str(path))
    assert (state.faults.error_rate, state.faults.error_status, state.faults.token_expires_after) == (0.2, 503, 5)


# -- the command ----------------------------------------------------------------------------------------------

def test_sandbox_command_prints_one_json_line_and_stops_cleanly(tmp_path) -> None:
    env = {**os.environ, "SFWIZARD_HOME": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "sfwizard", "sandbox", "--scenario", "healthy"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        info = json.loads(proc.stdout.readline())
        for key in ("instance_url", "login_url", "ca_cert", "client_id", "client_secret", "username", "password",
                    "px_api_url", "px_api_key", "status_url", "scenario"):
            assert info[key], key
        with _client(info) as c:
            assert c.get(info["status_url"] + "/api/v2/status.json").status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    for secret in (info["password"], info["client_secret"], info["px_api_key"]):
        assert secret not in err


def test_sandbox_command_port_in_use_is_one_line(tmp_path) -> None:
    import socket

    env = {**os.environ, "SFWIZARD_HOME": str(tmp_path)}
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "sfwizard", "sandbox", "--port", str(port)], capture_output=True,
                           text=True, env=env, timeout=30)
    assert r.returncode == 2 and f"port {port}" in r.stderr and "Traceback" not in r.stderr
