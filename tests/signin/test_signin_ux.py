"""Sign-in as people meet it: ``--debug`` after the command, where ``config.yaml`` lives, the URL printed
with what a remote terminal must do, a Deny named as a refusal (the install hint only for a blocked app),
and — slow, with a real Chromium — every sign-in path through ``sfwizard login`` itself: browser Allow,
Deny, the URL only, the device code, and logout revoking the token.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from external_tools import browser_env, real_browser

from sfwizard.cli import build_parser
from sfwizard.cli.account import sign_in_message
from sfwizard.demo import approve_in_sandbox
from sfwizard.errors import SfwizardError
from sfwizard.integrations import credentials, signin
from sfwizard.integrations.transport import ssl_context

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parents[1] / "browser"  # person.mjs: the person at the browser


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSH_")}
    env.update(extra)
    return env


def _cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sfwizard", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env or _env(), timeout=timeout)


# -- --debug after the command ---------------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [["login", "--debug"], ["--debug", "login"], ["check", "--demo", "--debug"],
                                  ["logout", "--debug"], ["sandbox", "--debug"]])
def test_debug_is_accepted_before_and_after_the_command(argv: list[str]) -> None:
    assert build_parser().parse_args(argv).debug is True


def test_debug_after_the_command_shows_the_traceback() -> None:
    args = ("login", "--port", "99999", "--client-id", "x", "--no-browser")
    plain, debug = _cli(*args), _cli(*args, "--debug")
    assert plain.returncode == 2 and "Traceback" not in plain.stderr and len(plain.stderr.strip().splitlines()) == 1
    assert "Traceback" in debug.stderr and "99999" in debug.stderr.strip().splitlines()[-1]


# -- login --help and the printed URL --------------------------------------------------------------------------

def test_login_help_says_where_config_yaml_lives_without_making_the_folder(sfwizard_home) -> None:
    out = _cli("login", "--help", env=_env(SFWIZARD_HOME=str(sfwizard_home)))
    assert out.returncode == 0
    flat = " ".join(out.stdout.split())
    assert str(sfwizard_home / "config" / "config.yaml") in out.stdout  # a path has no spaces to wrap at
    assert "--device" in flat and "ssh -L 1717:localhost:1717" in flat and "--no-browser" in flat
    assert not (sfwizard_home / "config").exists()  # asking for help creates nothing


def _url(port: int) -> str:
    return ("https://login.salesforce.com/services/oauth2/authorize?response_type=code&client_id=x&redirect_uri="
            f"http%3A%2F%2Flocalhost%3A{port}%2FOauthRedirect&state=s")


def test_the_printed_sign_in_says_the_browser_must_be_on_this_machine(monkeypatch) -> None:
    for var in ("SSH_CONNECTION", "SSH_TTY"):
        monkeypatch.delenv(var, raising=False)
    text = sign_in_message(_url(1717))
    assert _url(1717) in text
    assert "The browser must run on this machine" in text and "http://localhost:1717/OauthRedirect" in text
    assert "On a remote terminal" in text and "sfwizard login --device" in text
    assert "ssh -L 1717:localhost:1717" in text


def test_over_ssh_the_message_says_so_and_uses_the_real_port(monkeypatch) -> None:
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.2 52022 10.0.0.9 22")
    text = sign_in_message(_url(1800))
    assert "You are on a remote terminal (SSH)" in text and "ssh -L 1800:localhost:1800" in text


def test_over_ssh_without_a_display_no_browser_is_opened(monkeypatch) -> None:
    from sfwizard.cli import account

    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.2 52022 10.0.0.9 22")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert account._browser_here() is False
    monkeypatch.setenv("DISPLAY", "localhost:10.0")  # X forwarded: the browser runs here, the loopback works
    assert account._browser_here() is True


# -- a Deny is a refusal; the install hint only when the app is blocked ---------------------------------------

def test_a_deny_says_the_person_refused() -> None:
    e = signin.refusal("access_denied", "end-user denied authorization")
    assert "refused" in e.message and "Deny" in e.message and "install" not in str(e).lower()
    assert "click Allow" in e.hint


@pytest.mark.parametrize("error,description", [("OAUTH_APP_BLOCKED", "this app is blocked by admin"),
                                               ("OAUTH_APP_ACCESS_DENIED", "user is not admin approved"),
                                               ("OAUTH_APPROVAL_ERROR_GENERIC", ""),
                                               ("invalid_client", "app must be installed into org")])
def test_a_blocked_app_gets_the_install_hint(error: str, description: str) -> None:
    e = signin.refusal(error, description)
    assert "blocked" in e.message and error in e.message
    assert "install the connected app" in e.hint


def test_another_error_is_shown_as_salesforce_said_it() -> None:
    e = signin.refusal("invalid_request", "redirect_uri must match")
    assert e.message == "Salesforce did not approve the sign-in: invalid_request: redirect_uri must match"
    assert "install" not in e.hint


def test_deny_through_the_listener(sandbox) -> None:
    info = sandbox.info()

    def deny(url: str) -> None:
        q = parse_qs(urlsplit(url).query)
        httpx.get(q["redirect_uri"][0], params={"error": "access_denied", "state": q["state"][0],
                                                 "error_description": "end-user denied authorization"})

    with pytest.raises(SfwizardError, match="Deny was clicked"):
        signin.web_login(info["login_url"], info["client_id"], port=0, open_browser=False, on_url=deny,
                         ca_cert=info["ca_cert"], timeout=10)


# -- sfwizard login itself, the URL only, with the demo's stand-in person -----------------------------------

def _login_env(info: dict, home: Path, **extra: str) -> dict[str, str]:
    return _env(SFWIZARD_HOME=str(home), SFWIZARD_CA_CERT=info["ca_cert"], SFWIZARD_CLIENT_ID=info["client_id"],
                SFWIZARD_LOGIN_URL=info["login_url"], SFWIZARD_PORT="0", **extra)


def _start_login(env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sfwizard", "login", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


class _Stderr:
    """Reads a running command's stderr line by line (sfwizard prints the URL or the code there)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc, self.lines, self.changed = proc, [], threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match:
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for line in self.lines:
                    m = re.search(pattern, line)
                    if m:
                        return m
                left = deadline - time.monotonic()
                assert left > 0, "".join(self.lines)
                self.changed.wait(left)

    def finish(self, timeout: float = 60) -> tuple[str, str]:
        """(stdout, all of stderr) once the command has ended."""
        assert self.proc.stdout is not None
        out = self.proc.stdout.read()
        self.proc.wait(timeout)
        self.thread.join(5)
        return out, "".join(self.lines)


def test_login_no_browser_prints_the_url_and_finishes_when_it_is_approved(sandbox, sfwizard_home) -> None:
    info = sandbox.info()
    proc = _start_login(_login_env(info, sfwizard_home), "--no-browser")
    err = _Stderr(proc)
    approve_in_sandbox(err.wait_for(r"^\s+(https://\S+/services/oauth2/authorize\?\S+)$").group(1), info)
    out, said = err.finish()
    assert proc.returncode == 0, said
    assert out.startswith("Signed in to Northwind Traders") and info["username"] in out
    assert "The browser must run on this machine" in said and "ssh -L" in said


# -- the same with a real browser (Chromium through puppeteer-core) -------------------------------------------



def _person_env(sandbox, info: dict, decision: str, result: Path, user_code: str = "") -> dict[str, str]:
    from sfwizard.sandbox.tls import leaf_spki_sha256

    return {"SFW_USERNAME": info["username"], "SFW_PASSWORD": info["password"], "SFW_DECISION": decision,
            "SFW_SPKI": leaf_spki_sha256(sandbox.certs), **browser_env(),
            "SFW_RESULT": str(result), "SFW_USER_CODE": user_code}


def _person(url: str, env: dict[str, str]) -> dict:
    proc = subprocess.run(["node", str(HERE / "person.mjs"), url], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=90)
    result = json.loads(Path(env["SFW_RESULT"]).read_text())
    assert proc.returncode == 0 and result["ok"], result.get("error") or proc.stderr
    return result


def _api_status(info: dict, token: str) -> int:
    with httpx.Client(verify=ssl_context(info["ca_cert"]), timeout=10) as c:
        return c.get(info["instance_url"] + "/services/data/v60.0/limits",
                     headers={"Authorization": f"Bearer {token}"}).status_code


@real_browser
def test_real_browser_allow_then_logout_revokes(sandbox, sfwizard_home, tmp_path) -> None:
    info = sandbox.info()
    result = tmp_path / "person.json"
    browser = f"node {HERE / 'person.mjs'} %s"  # what $BROWSER means to Python's webbrowser
    env = _login_env(info, sfwizard_home, BROWSER=browser, **_person_env(sandbox, info, "allow", result))
    out = _cli("login", env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Signed in to Northwind Traders")
    seen = json.loads(result.read_text())
    assert seen["steps"] == ["login", "allow"] and seen["heading"] == "Signed in"  # sfwizard's own page
    tokens = credentials.load()
    assert tokens is not None and tokens.refresh_token and _api_status(info, tokens.access_token) == 200
    bye = _cli("logout", env=env)
    assert bye.returncode == 0 and "revoked at Salesforce" in bye.stdout
    assert credentials.load() is None and _api_status(info, tokens.access_token) == 401


@real_browser
def test_real_browser_deny_is_named_as_a_refusal(sandbox, sfwizard_home, tmp_path) -> None:
    info = sandbox.info()
    result = tmp_path / "person.json"
    env = _login_env(info, sfwizard_home, BROWSER=f"node {HERE / 'person.mjs'} %s",
                     **_person_env(sandbox, info, "deny", result))
    out = _cli("login", env=env, timeout=120)
    assert out.returncode == 2
    assert "the sign-in was refused: Deny was clicked" in out.stderr and "install" not in out.stderr
    seen = json.loads(result.read_text())
    assert seen["steps"] == ["login", "deny"] and seen["heading"] == "Sign-in not approved"
    assert credentials.load() is None


@real_browser
def test_real_browser_with_the_url_only(sandbox, sfwizard_home, tmp_path) -> None:
    info = sandbox.info()
    proc = _start_login(_login_env(info, sfwizard_home), "--no-browser")
    err = _Stderr(proc)
    url = err.wait_for(r"^\s+(https://\S+/services/oauth2/authorize\?\S+)$").group(1)
    person = _person(url, _person_env(sandbox, info, "allow", tmp_path / "person.json"))
    out, said = err.finish()
    assert proc.returncode == 0, said
    assert out.startswith("Signed in to Northwind Traders") and person["heading"] == "Signed in"


@real_browser
def test_real_browser_device_code(sandbox, sfwizard_home, tmp_path) -> None:
    info = sandbox.info()
    t0 = time.monotonic()
    proc = _start_login(_login_env(info, sfwizard_home), "--device")
    err = _Stderr(proc)
    m = err.wait_for(r"open (\S+) and enter the code: (\S+)")
    person = _person(m.group(1), _person_env(sandbox, info, "allow", tmp_path / "person.json", m.group(2)))
    out, said = err.finish()
    assert proc.returncode == 0, said
    assert out.startswith("Signed in to Northwind Traders")
    assert person["steps"] == ["code", "login", "allow"]
    assert credentials.load().source == "device" and time.monotonic() - t0 < 60


def test_the_readme_covers_no_browser_remote_terminals_and_the_cli() -> None:
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "| `--no-browser` |" in text
    assert "ssh -L 1717:localhost:1717 HOST" in text and "sfwizard login --device" in text
    assert "sf org auth show-access-token --json" in text and "[REDACTED]" in text
