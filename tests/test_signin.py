"""Sign-in and settings defects found in review, one test each (the main suite is test_client_signin.py).

A silent connection to the loopback listener (a browser's speculative preconnect) must not hold up the
callback or the timeout; ports, API versions and URLs from flags, environment or config.yaml are refused
in one line; the Salesforce CLI's own words reach the person; a non-OAuth answer is named as such.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from sfwizard import paths
from sfwizard.demo import approve_in_sandbox
from sfwizard.errors import SfwizardError
from sfwizard.integrations import settings, signin

ROOT = Path(__file__).resolve().parents[1]


def _silent_then(info: dict, sockets: list[socket.socket]):
    """on_url: first open a connection to the listener that never sends a byte, then approve as a person."""
    def on_url(url: str) -> None:
        port = urlsplit(parse_qs(urlsplit(url).query)["redirect_uri"][0]).port
        sockets.append(socket.create_connection(("127.0.0.1", port)))
        threading.Thread(target=approve_in_sandbox, args=(url, info), daemon=True).start()

    return on_url


def _bounded(fn, limit: float) -> dict:
    """Run fn on a daemon thread; a regression that hangs fails the test instead of stalling the suite."""
    out: dict = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            out["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(limit)
    assert not worker.is_alive(), f"still running after {limit} s"
    return out


def test_a_silent_preconnect_does_not_block_the_callback(sandbox) -> None:
    info = sandbox.info()
    sockets: list[socket.socket] = []
    try:
        out = _bounded(lambda: signin.web_login(info["login_url"], info["client_id"], port=0, open_browser=False,
                                                on_url=_silent_then(info, sockets), ca_cert=info["ca_cert"],
                                                timeout=20), 5)  # well under the handler's 10 s read timeout
        assert "error" not in out, out.get("error")
        assert out["value"].access_token and out["value"].org_id == info["org_id"]
    finally:
        for s in sockets:
            s.close()


def test_a_silent_connection_does_not_stop_the_timeout(sandbox) -> None:
    sockets: list[socket.socket] = []

    def on_url(url: str) -> None:
        port = urlsplit(parse_qs(urlsplit(url).query)["redirect_uri"][0]).port
        sockets.append(socket.create_connection(("127.0.0.1", port)))

    info = sandbox.info()
    try:
        out = _bounded(lambda: signin.web_login(info["login_url"], info["client_id"], port=0, open_browser=False,
                                                on_url=on_url, ca_cert=info["ca_cert"], timeout=0.5), 3)
        assert isinstance(out.get("error"), SfwizardError) and "no answer from the browser" in str(out["error"])
    finally:
        for s in sockets:
            s.close()


def test_only_the_first_answer_counts(sandbox) -> None:
    """A second callback (a reload, a stray tab) cannot replace the code already received."""
    info = sandbox.info()
    seen: dict = {}

    def on_url(url: str) -> None:
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        seen["callback"] = q["redirect_uri"]
        seen["state"] = q["state"]
        approve_in_sandbox(url, info)  # synchronous: the real code has arrived before we return

    server_result: dict = {}
    real_finish = signin._Listener.finish

    def spy(self, result):
        real_finish(self, result)
        server_result["after_first"] = self.result
        real_finish(self, SfwizardError("a late wrong answer"))
        server_result["after_second"] = self.result

    signin._Listener.finish = spy
    try:
        tokens = signin.web_login(info["login_url"], info["client_id"], port=0, open_browser=False,
                                  on_url=on_url, ca_cert=info["ca_cert"], timeout=10)
    finally:
        signin._Listener.finish = real_finish
    assert tokens.access_token
    assert isinstance(server_result["after_first"], str)
    assert server_result["after_second"] == server_result["after_first"]


@pytest.mark.parametrize("port", [-1, 65536, 99999])
def test_an_impossible_port_is_one_line(port: int) -> None:
    with pytest.raises(SfwizardError) as err:
        signin.web_login("https://login.salesforce.com", "cid", port=port, open_browser=False,
                         on_url=lambda url: None, timeout=1)
    assert str(port) in err.value.message and "--port" in err.value.hint


# -- settings: one-line refusals --------------------------------------------------------------------------
def _config(text: str) -> Path:
    path = paths.config_dir() / "config.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("value", ["abc", "70000", "-5", "17.5"])
def test_a_bad_port_in_config_is_refused(value: str) -> None:
    _config(f"port: {value}\n")
    with pytest.raises(SfwizardError) as err:
        settings.resolve()
    assert value in err.value.message and "port" in err.value.message


def test_port_and_api_version_come_from_the_environment(monkeypatch) -> None:
    _config("port: 1818\napi_version: 58.0\n")
    assert (settings.resolve().port, settings.resolve().api_version) == (1818, "58.0")
    monkeypatch.setenv("SFWIZARD_PORT", "1919")
    monkeypatch.setenv("SFWIZARD_API_VERSION", "59.0")
    assert (settings.resolve().port, settings.resolve().api_version) == (1919, "59.0")
    assert settings.resolve({"port": 2020}).port == 2020


@pytest.mark.parametrize(("given", "wanted"), [("60", "60.0"), ("60.0", "60.0"), ("v61.0", "61.0")])
def test_api_version_is_normalised(given: str, wanted: str) -> None:
    _config(f"api_version: {given}\n")
    assert settings.resolve().api_version == wanted


@pytest.mark.parametrize("given", ["sixty", "60.1", "'60.0; DROP'"])
def test_a_bad_api_version_is_refused(given: str) -> None:
    _config(f"api_version: {given}\n")
    with pytest.raises(SfwizardError, match="not a Salesforce API version"):
        settings.resolve()


@pytest.mark.parametrize("url", ["http://status.example.com", "ftp://x", "status.example.com"])
def test_the_status_page_must_be_https(url: str) -> None:
    _config(f"status_url: {url}\n")
    with pytest.raises(SfwizardError, match="status_url must be an https URL"):
        settings.resolve()


def test_an_https_status_page_is_kept() -> None:
    _config("status_url: https://status.gainsight.com/\n")
    assert settings.resolve().status_url == "https://status.gainsight.com"


@pytest.mark.parametrize("url", ["https://x.my.salesforce.com/?a=b", "https://x.my.salesforce.com/#frag",
                                 "https://user@x.my.salesforce.com"])
def test_a_login_url_with_query_fragment_or_userinfo_is_refused(url: str) -> None:
    with pytest.raises(SfwizardError, match="not a Salesforce login URL"):
        settings.login_url(url)


def test_a_login_url_with_a_site_path_is_kept() -> None:
    assert settings.login_url("https://x.my.site.com/partners/") == "https://x.my.site.com/partners"


# -- the Salesforce CLI ------------------------------------------------------------------------------------
def _fake_sf(tmp_path: Path, monkeypatch, script: str) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sf = bin_dir / "sf"
    sf.write_text(script)
    sf.chmod(sf.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_the_cli_own_error_reaches_the_person(tmp_path, monkeypatch) -> None:
    _fake_sf(tmp_path, monkeypatch, "#!/bin/sh\ncat <<'EOF'\n"
                                    '{"status": 1, "name": "NoDefaultEnvError", '
                                    '"message": "No default environment found.\\nUse -o to pick one."}\nEOF\nexit 1\n')
    with pytest.raises(SfwizardError) as err:
        signin.sf_cli_login()
    assert err.value.message.endswith("No default environment found. Use -o to pick one.")  # one line
    assert "sf org login web" in err.value.hint


def test_a_broken_cli_is_one_line_not_a_crash(tmp_path, monkeypatch) -> None:
    _fake_sf(tmp_path, monkeypatch, "not a program\x00\x01")
    with pytest.raises(SfwizardError, match="could not be run"):
        signin.sf_cli_login()


def test_a_cli_login_is_read_with_its_target_org(tmp_path, monkeypatch) -> None:
    _fake_sf(tmp_path, monkeypatch, '#!/bin/sh\ncase "$*" in *"--target-org prod"*) ;; *) exit 3;; esac\n'
                                    'echo \'{"status": 0, "result": {"accessToken": "00Dx!tok", "instanceUrl": '
                                    '"https://x.my.salesforce.com", "username": "a@x", "id": "00Dx"}}\'\n')
    tokens = signin.sf_cli_login("prod")
    assert (tokens.access_token, tokens.instance_url, tokens.username, tokens.org_id, tokens.source) == (
        "00Dx!tok", "https://x.my.salesforce.com", "a@x", "00Dx", "sf-cli")
    assert tokens.refresh_token is None  # the CLI keeps its own; ours is marked as having none


# -- a login host that is not one -------------------------------------------------------------------------
class _Answer:
    def __init__(self, status: int, body: object) -> None:
        self.status_code, self._body = status, body

    def json(self) -> object:
        return self._body


class _FakeHttp:
    def __init__(self, answer: _Answer) -> None:
        self.answer = answer

    def request(self, *args, **kwargs) -> _Answer:
        return self.answer

    def close(self) -> None:
        pass


@pytest.mark.parametrize(("status", "body"), [(200, {"ok": True}), (200, ["x"]), (400, ["x"]),
                                              (200, {"access_token": "a" * 20})])
def test_an_answer_that_is_not_an_oauth_token_is_named(monkeypatch, status: int, body: object) -> None:
    """Pointed at a server that is not a Salesforce login host, its JSON is not taken for a token."""
    monkeypatch.setattr(signin, "_http", lambda verify: _FakeHttp(_Answer(status, body)))
    saved: list = []
    with pytest.raises(SfwizardError) as err:
        signin.refresh(signin.TokenSet("a" * 20, "https://x", "https://l", "cid", refresh_token="r" * 20),
                       save=saved.append)
    assert err.value.message == f"the login server answered HTTP {status} without an OAuth token answer"
    assert "--login-url" in err.value.hint and saved == []


def test_cli_port_out_of_range_is_one_line() -> None:
    out = subprocess.run([sys.executable, "-m", "sfwizard", "login", "--port", "99999", "--client-id", "x",
                          "--no-browser"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.returncode == 2
    assert "unexpected error" not in out.stderr and "99999" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1

