"""Faults, the sandbox command, and one whole restore seen from Salesforce (PX API, status page and admin
clicks in detail: test_px.py, test_statuspage.py, test_admin.py)."""

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
from sfwizard.integrations.transport import tls_verify


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


# -- admin clicks ---------------------------------------------------------------------------------------------

def test_authorize_then_synchronize_restores_the_integration(start_sandbox) -> None:
    from sfwizard.sandbox.scenarios.loader import load_scenario

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


def test_sync_with_a_revoked_token_fails_like_the_real_thing(start_sandbox) -> None:
    from sfwizard.sandbox.scenarios.loader import load_scenario

    sb = start_sandbox(_short_sync(load_scenario("healthy")))
    info = sb.info()
    with _client(info) as c:
        assert c.post(info["admin_url"] + "__sandbox__/px/revoke").json()["revoked"] >= 1
        assert _state(c, info)["px"]["status"] == "DOWN"
        assert c.post(info["admin_url"] + "__sandbox__/px/sync").status_code == 409


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
    from sfwizard.sandbox.scenarios.loader import load_scenario

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
