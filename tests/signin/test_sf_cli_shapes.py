"""Reusing a Salesforce CLI login (``sfwizard login --sf-cli``) with the CLI as it is today.

Since 2025 ``sf org display --json`` prints "[REDACTED] Use 'sf org auth show-access-token' to view" where the
access token was; the token comes from ``sf org auth show-access-token --json``. Older CLIs have no such
command and still print the token in ``org display``. A fake ``sf`` script reproduces both shapes quickly;
the slow test signs the REAL CLI (from npm) in to the sandbox and reuses its login end to end.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from external_tools import REAL_SF, real_cli

from sfwizard.errors import SfwizardError
from sfwizard.integrations import credentials, signin
from sfwizard.integrations.transport import ssl_context

ROOT = Path(__file__).resolve().parents[2]
REDACTED = "[REDACTED] Use 'sf org auth show-access-token' to view"
TOKEN = "00D5g0000004C92!AQ4AQLd0x.real.token"


def _display(token: str) -> dict:
    """``sf org display --json`` as the CLI 2.146 prints it (trailing slash on the URLs included)."""
    return {"status": 0, "result": {"id": "00D5g0000004C92EAE", "apiVersion": "62.0", "accessToken": token,
                                    "instanceUrl": "https://acme.my.salesforce.com/",
                                    "loginUrl": "https://login.salesforce.com/",
                                    "username": "avery.admin@acme.example", "connectedStatus": "Connected",
                                    "alias": "acme"},
            "warnings": ["Secrets are now hidden from 'sf org display' command output. …"]}


def _fake_sf(tmp_path: Path, monkeypatch, *, display: dict, show: dict | None, show_rc: int = 0) -> Path:
    """An ``sf`` that answers org display and (when ``show`` is given) org auth show-access-token."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "display.json").write_text(json.dumps(display))
    if show is not None:
        (bin_dir / "show.json").write_text(json.dumps(show))
    log = bin_dir / "calls.log"
    unknown = {"name": "CommandNotFound", "message": "Command auth:show-access-token not found.", "status": 127}
    script = f"""#!/bin/sh
echo "$*" >> {log}
echo 'a warning on stderr' >&2
case "$*" in
  "org display"*) cat {bin_dir}/display.json ;;
  "org auth show-access-token"*)
    if [ -f {bin_dir}/show.json ]; then cat {bin_dir}/show.json; exit {show_rc}; fi
    echo '{json.dumps(unknown)}'; exit 127 ;;
  *) exit 3 ;;
esac
"""
    sf = bin_dir / "sf"
    sf.write_text(script)
    sf.chmod(sf.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("SFWIZARD_SF_CLI", raising=False)
    return log


def test_todays_cli_token_comes_from_show_access_token(tmp_path, monkeypatch) -> None:
    log = _fake_sf(tmp_path, monkeypatch, display=_display(REDACTED),
                   show={"status": 0, "result": {"accessToken": TOKEN}, "warnings": ["This command exposes …"]})
    tokens = signin.sf_cli_login("acme")
    assert tokens.access_token == TOKEN  # not the "[REDACTED] …" text
    assert (tokens.instance_url, tokens.login_url) == ("https://acme.my.salesforce.com",
                                                        "https://login.salesforce.com")
    assert (tokens.username, tokens.org_id, tokens.source) == ("avery.admin@acme.example", "00D5g0000004C92EAE",
                                                               "sf-cli")
    calls = sorted(log.read_text().splitlines())
    assert calls == ["org auth show-access-token --json --target-org acme", "org display --json --target-org acme"]


def test_an_older_cli_without_show_access_token_still_works(tmp_path, monkeypatch) -> None:
    _fake_sf(tmp_path, monkeypatch, display=_display(TOKEN), show=None)
    tokens = signin.sf_cli_login()
    assert tokens.access_token == TOKEN and tokens.instance_url == "https://acme.my.salesforce.com"


def test_a_redacted_token_is_never_taken_for_a_token(tmp_path, monkeypatch) -> None:
    """Today's org display, and no show-access-token answer: one clear line, not 'sign-in expired'."""
    _fake_sf(tmp_path, monkeypatch, display=_display(REDACTED),
             show={"status": 1, "name": "AuthInfoError", "message": "No access token for this org."}, show_rc=1)
    with pytest.raises(SfwizardError) as err:
        signin.sf_cli_login()
    e = err.value
    assert "hid the access token" in e.message and "[REDACTED]" in e.message
    assert e.message.endswith("No access token for this org.")
    assert "npm install -g @salesforce/cli" in e.hint and "expired" not in str(e)


def test_show_access_token_answering_redacted_text_is_recognised(tmp_path, monkeypatch) -> None:
    _fake_sf(tmp_path, monkeypatch, display=_display(REDACTED),
             show={"status": 0, "result": {"accessToken": REDACTED}})
    with pytest.raises(SfwizardError, match="hid the access token"):
        signin.sf_cli_login()


@pytest.mark.parametrize("token,redacted", [(REDACTED, True), ("[REDACTED]", True), ("Use sf org auth", True),
                                            (TOKEN, False)])
def test_looks_redacted(token: str, redacted: bool) -> None:
    assert signin.looks_redacted(token) is redacted


def test_the_cli_can_be_named_by_sfwizard_sf_cli(tmp_path, monkeypatch) -> None:
    _fake_sf(tmp_path, monkeypatch, display=_display(TOKEN), show=None)
    moved = tmp_path / "elsewhere-sf"
    shutil.move(tmp_path / "bin" / "sf", moved)
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no sf on it
    monkeypatch.setenv("SFWIZARD_SF_CLI", str(moved))
    assert signin.sf_cli_login().access_token == TOKEN


def test_no_cli_names_the_way_out(monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("SFWIZARD_SF_CLI", raising=False)
    with pytest.raises(SfwizardError) as err:
        signin.sf_cli_login()
    assert "not installed" in err.value.message and "SFWIZARD_SF_CLI" in err.value.hint


# -- the real CLI, from npm ------------------------------------------------------------------------------------



@real_cli
def test_the_real_cli_login_is_reused_end_to_end(start_sandbox, tmp_path, sfwizard_home) -> None:
    """sf org login access-token → sfwizard login --sf-cli → sfwizard check → sfwizard logout."""
    sb = start_sandbox("healthy")
    info = sb.info()
    with httpx.Client(verify=ssl_context(info["ca_cert"]), timeout=10) as c:
        token = c.post(info["login_url"] + "/services/oauth2/token", data={
            "grant_type": "password", "client_id": info["client_id"], "client_secret": info["client_secret"],
            "username": info["username"], "password": info["password"]}).json()["access_token"]
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "NODE_EXTRA_CA_CERTS": info["ca_cert"],
           "SF_USE_GENERIC_UNIX_KEYCHAIN": "true", "SF_DISABLE_TELEMETRY": "true",
           "SF_SKIP_NEW_VERSION_CHECK": "true", "SF_AUTOUPDATE_DISABLE": "true",
           "SFWIZARD_SF_CLI": str(REAL_SF), "SFWIZARD_CA_CERT": info["ca_cert"], "SFWIZARD_HOME": str(sfwizard_home)}
    env.pop("SF_TEMP_SHOW_SECRETS", None)
    login = subprocess.run([str(REAL_SF), "org", "login", "access-token", "--instance-url", info["instance_url"],
                            "--no-prompt", "--alias", "sbx", "--json"], env={**env, "SF_ACCESS_TOKEN": token},
                           capture_output=True, text=True, timeout=120)
    assert login.returncode == 0, login.stdout + login.stderr
    display = subprocess.run([str(REAL_SF), "org", "display", "--target-org", "sbx", "--json"], env=env,
                             capture_output=True, text=True, timeout=120)
    shown = json.loads(display.stdout)["result"]["accessToken"]
    assert shown != token and signin.looks_redacted(shown)  # today's CLI hides it: what broke --sf-cli

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "sfwizard", *args], capture_output=True, text=True,
                              cwd=ROOT, env=env, timeout=180)

    out = cli("login", "--sf-cli", "--target-org", "sbx")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Signed in to Northwind Traders") and "avery.admin@northwind.example" in out.stdout
    assert "expired" not in out.stdout + out.stderr
    kept = credentials.load()  # the same SFWIZARD_HOME (and no keychain) as the commands'
    assert kept is not None and kept.access_token == token and kept.source == "sf-cli"
    assert kept.instance_url == info["instance_url"]  # the CLI's trailing slash is gone
    check = cli("check", "--only", "identity.org,before.salesforce_admin")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Northwind Traders" in check.stdout and token not in check.stdout + check.stderr
    bye = cli("logout")
    assert bye.returncode == 0 and "sf org logout" in bye.stdout
    unknown = cli("login", "--sf-cli", "--target-org", "nope")
    assert unknown.returncode == 2 and "No authorization information found for nope" in unknown.stderr
