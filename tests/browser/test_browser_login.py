"""A real Chromium, driven by puppeteer-core, walks the sandbox's login and Allow pages."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest
from external_tools import REAL_BROWSER, browser_env

from sfwizard.sandbox.scenarios import builder
from sfwizard.sandbox.tls import leaf_spki_sha256

HERE = Path(__file__).parent
pytestmark = REAL_BROWSER


def _run(sb, tls_certs, app, username: str, password: str, decision: str, challenge: str,
         screenshot: Path | None = None) -> dict:
    env = {**os.environ, "SFW_BASE_URL": sb.base_url, "SFW_CLIENT_ID": app.client_id,
           "SFW_USERNAME": username, "SFW_PASSWORD": password, "SFW_SPKI": leaf_spki_sha256(tls_certs),
           "SFW_CHALLENGE": challenge,
           "SFW_DECISION": decision, **browser_env()}
    if screenshot:
        env["SFW_SCREENSHOT"] = str(screenshot)
    proc = subprocess.run(["node", str(HERE / "login_flow.mjs")], env=env, capture_output=True, text=True,
                          check=False, timeout=90)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no result from the browser script: {proc.stderr[-2000:]}"
    result = json.loads(lines[-1])
    assert proc.returncode == 0, result.get("error") or proc.stderr[-2000:]
    assert result["ok"], result.get("error") or proc.stderr[-2000:]
    return result


@pytest.fixture
def world(start_sandbox):
    st = builder.new_state("browser")
    org = builder.add_org(st, "main", "Acme Corp", is_sandbox=True)
    builder.add_profile(st, org, "System Administrator", modify_all=True, approve_uninstalled=True)
    builder.add_user(st, org, "admin@acme.example", first_name="Ada", last_name="Admin",
                     profile="System Administrator")
    app = builder.add_connected_app(st, "Gainsight PX", installed_in={"main"})
    sb = start_sandbox(st)
    return sb, st, app, st.passwords[("main", "admin@acme.example")]


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    return verifier, base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def test_browser_allow_lands_on_loopback_with_code(world, tls_certs, tmp_path):
    sb, st, app, password = world
    verifier, challenge = _pkce()
    shot = Path(os.environ.get("SFW_ALLOW_SCREENSHOT", tmp_path / "allow.png"))
    result = _run(sb, tls_certs, app, "admin@acme.example", password, "allow", challenge, shot)
    page = result["allowPage"]
    assert page["title"] == "Allow Access?"
    assert page["orgType"] == "SANDBOX"
    assert page["org"] == "Acme Corp"
    assert page["orgId"] == st.default_org.id
    assert "admin@acme.example" in page["user"]
    landed = result["landed"]
    assert landed["path"] == "/OauthRedirect"
    assert landed["params"]["state"] == result["sentState"]
    assert shot.stat().st_size > 10_000
    ctx = ssl.create_default_context(cafile=str(tls_certs.ca_cert))
    with httpx.Client(verify=ctx) as c:
        resp = c.post(f"{sb.base_url}/services/oauth2/token", data={
            "grant_type": "authorization_code", "code": landed["params"]["code"], "client_id": app.client_id,
            "redirect_uri": result["redirectUri"], "code_verifier": verifier})
    assert resp.status_code == 200, resp.text
    assert resp.json()["id"].endswith(st.default_org.user_by_username("admin@acme.example")["Id"])


def test_browser_deny_lands_on_loopback_with_access_denied(world, tls_certs):
    sb, _, app, password = world
    result = _run(sb, tls_certs, app, "admin@acme.example", password, "deny", _pkce()[1])
    params = result["landed"]["params"]
    assert params == {"error": "access_denied", "error_description": "end-user denied authorization",
                      "state": result["sentState"]}
