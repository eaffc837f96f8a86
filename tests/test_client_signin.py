"""The wizard's own sign-in, end to end against the sandbox and unit by unit.

PKCE through the real loopback listener (approved by the demo's stand-in for a person), the listener's
refusals, the device flow driven through the sandbox's verification pages, refresh with and without
rotation, invalid_grant, revoke, where the sign-in is kept (keychain or 0600 file, a hanging keychain
given up on), settings precedence, secrets kept out of logs, and ``sfwizard logout`` / ``check`` as a
person runs them.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sfwizard.cancel import CancelToken
from sfwizard.demo import approve_in_sandbox
from sfwizard.errors import SfwizardError
from sfwizard.integrations import credentials, settings, signin
from sfwizard.integrations.transport import tls_verify

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _fresh_warning(monkeypatch) -> None:
    """credentials warns once per process; each test starts unwarned and leaves the flag as it found it."""
    monkeypatch.setattr(credentials, "_warned", False)


# -- helpers -------------------------------------------------------------------------------------------
def _approving(info: dict, seen: dict | None = None):
    """An on_url that hands the URL to the stand-in person in a thread (as a real browser would)."""
    def on_url(url: str) -> None:
        if seen is not None:
            seen["url"] = url
        threading.Thread(target=approve_in_sandbox, args=(url, info), daemon=True).start()

    return on_url


def _web_login(info: dict, on_url, timeout: float = 30) -> signin.TokenSet:
    return signin.web_login(info["login_url"], info["client_id"], port=0, open_browser=False, on_url=on_url,
                            ca_cert=info["ca_cert"], timeout=timeout)


def _sign_in(info: dict) -> signin.TokenSet:
    return _web_login(info, _approving(info))


def _redirect_uri(url: str) -> str:
    return parse_qs(urlsplit(url).query)["redirect_uri"][0]


def _state(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


def _limits_status(info: dict, token: str) -> int:
    with httpx.Client(verify=tls_verify(info["ca_cert"]), timeout=10) as c:
        return c.get(info["instance_url"] + "/services/data/v60.0/limits",
                     headers={"Authorization": f"Bearer {token}"}).status_code


def _admin_id(sandbox, info: dict) -> str:
    return sandbox.state.default_org.user_by_username(info["username"])["Id"]


def _hidden(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def _decide_device_code(info: dict, user_code: str, verification_uri: str, decision: str) -> str:
    """A person on another device: open the verification page, enter the code, log in, Allow or Deny."""
    with httpx.Client(verify=tls_verify(info["ca_cert"]), follow_redirects=True, timeout=10) as web:
        page = web.get(verification_uri)
        assert page.status_code == 200, page.text
        login = web.post(verification_uri, data={**_hidden(page.text), "user_code": user_code})
        assert login.status_code == 200 and 'name="pw"' in login.text, login.text
        allow = web.post(info["login_url"] + "/services/oauth2/login",
                         data={**_hidden(login.text), "username": info["username"], "pw": info["password"]})
        assert allow.status_code == 200 and 'value="allow"' in allow.text, allow.text
        done = web.post(str(allow.url).split("?")[0], data={**_hidden(allow.text), "decision": decision})
        assert done.status_code == 200, done.text
        return done.text


def _cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sfwizard", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **(env or {})}, timeout=timeout)


def _nobody_listens(port: int) -> bool:
    """Nothing accepts connections on the port (a closed listener may still leave TIME_WAIT behind)."""
    with socket.socket() as s:
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", port))
        except ConnectionRefusedError:
            return True
        return False


# -- 1. PKCE end to end ----------------------------------------------------------------------------------
def test_pkce_sign_in_returns_working_tokens_for_the_admin(sandbox) -> None:
    info = sandbox.info()
    seen: dict = {}
    tokens = _web_login(info, _approving(info, seen))

    assert _limits_status(info, tokens.access_token) == 200
    assert tokens.org_id == info["org_id"]
    assert tokens.user_id == _admin_id(sandbox, info)
    assert tokens.id_url.endswith(f"/id/{tokens.org_id}/{tokens.user_id}")
    assert tokens.instance_url == info["instance_url"]
    assert (tokens.login_url, tokens.client_id, tokens.source) == (info["login_url"], info["client_id"], "web")
    assert tokens.refresh_token  # scope asked for refresh_token
    # What the browser was sent to: PKCE S256, a state, and a loopback redirect on the port we listened on.
    q = {k: v[0] for k, v in parse_qs(urlsplit(seen["url"]).query).items()}
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43 and len(q["state"]) >= 20
    assert q["redirect_uri"].startswith("http://localhost:") and q["redirect_uri"].endswith("/OauthRedirect")
    assert "code_verifier" not in seen["url"]
    # The one-shot listener is gone once the sign-in returned.
    assert _nobody_listens(urlsplit(q["redirect_uri"]).port)


def test_pkce_pair_is_s256() -> None:
    import base64
    import hashlib

    verifier, challenge = signin.pkce_pair()
    assert 43 <= len(verifier) <= 128
    assert challenge == base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    assert signin.pkce_pair()[0] != verifier


# -- 2.-5. the loopback listener's refusals ------------------------------------------------------------------
def test_a_wrong_state_is_refused_with_a_400_page(sandbox) -> None:
    info = sandbox.info()
    seen: dict = {}

    def forge(url: str) -> None:
        seen["resp"] = httpx.get(_redirect_uri(url) + "?code=x&state=wrong", timeout=10)

    with pytest.raises(SfwizardError) as err:
        _web_login(info, forge, timeout=10)
    assert "state" in err.value.message
    assert seen["resp"].status_code == 400
    assert "text/html" in seen["resp"].headers["content-type"]
    assert "refused" in seen["resp"].text.lower()


def test_a_missing_state_is_refused(sandbox) -> None:
    info = sandbox.info()

    def forge(url: str) -> None:
        httpx.get(_redirect_uri(url) + "?code=x", timeout=10)

    with pytest.raises(SfwizardError, match="state"):
        _web_login(info, forge, timeout=10)


def test_a_denial_in_the_browser_ends_the_sign_in(sandbox) -> None:
    info = sandbox.info()
    seen: dict = {}

    def deny(url: str) -> None:
        seen["resp"] = httpx.get(_redirect_uri(url), params={"error": "access_denied", "state": _state(url),
                                                             "error_description": "end-user denied authorization"})

    with pytest.raises(SfwizardError) as err:
        _web_login(info, deny, timeout=10)
    assert "Deny was clicked" in err.value.message and "click Allow" in err.value.hint  # a refusal, not a blocked app
    assert seen["resp"].status_code == 200


def test_non_get_and_stray_paths_do_not_end_the_sign_in(sandbox) -> None:
    info = sandbox.info()
    seen: dict = {}

    def poke_then_approve(url: str) -> None:
        redirect, state = _redirect_uri(url), _state(url)
        # Even with the right state, a non-GET never counts as the answer.
        seen["methods"] = {m: httpx.request(m, redirect, params={"code": "x", "state": state}).status_code
                           for m in ("POST", "PUT", "DELETE", "PATCH")}
        favicon = redirect.replace("/OauthRedirect", "/favicon.ico")
        seen["favicon"] = httpx.get(favicon).status_code
        threading.Thread(target=approve_in_sandbox, args=(url, info), daemon=True).start()

    tokens = _web_login(info, poke_then_approve)
    assert seen["methods"] == {"POST": 405, "PUT": 405, "DELETE": 405, "PATCH": 405}
    assert seen["favicon"] == 404
    assert _limits_status(info, tokens.access_token) == 200


def test_no_answer_times_out_naming_the_timeout(sandbox) -> None:
    info = sandbox.info()
    seen: dict = {}
    t0 = time.monotonic()
    with pytest.raises(SfwizardError) as err:
        _web_login(info, lambda url: seen.setdefault("url", url), timeout=1)
    assert 0.9 <= time.monotonic() - t0 < 5
    assert "within 1 s" in err.value.message
    assert "--device" in err.value.hint
    assert _nobody_listens(urlsplit(_redirect_uri(seen["url"])).port)  # the listener closed on the way out


def test_a_taken_port_is_named_with_the_way_out(sandbox) -> None:
    info = sandbox.info()
    called: list[str] = []
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        with pytest.raises(SfwizardError) as err:
            signin.web_login(info["login_url"], info["client_id"], port=port, open_browser=False,
                             on_url=called.append, ca_cert=info["ca_cert"], timeout=5)
    assert f"port {port}" in err.value.message
    assert "--port" in err.value.hint
    assert called == []  # no URL is shown for a sign-in that cannot finish


# -- 6. the device flow -------------------------------------------------------------------------------------
def test_device_flow_approved_on_the_verification_page(sandbox) -> None:
    info = sandbox.info()
    shown: dict = {}

    def on_code(code: str, uri: str) -> None:
        shown.update(code=code, uri=uri)
        text = _decide_device_code(info, code, uri, "allow")
        assert "connected" in text.lower()

    tokens = signin.device_login(info["login_url"], info["client_id"], on_code=on_code, ca_cert=info["ca_cert"],
                                 min_interval=0.0, timeout=20)
    assert shown["uri"] == info["login_url"] + "/setup/connect" and len(shown["code"]) == 8
    assert tokens.source == "device" and tokens.refresh_token
    assert tokens.org_id == info["org_id"] and tokens.user_id == _admin_id(sandbox, info)
    assert _limits_status(info, tokens.access_token) == 200


def test_device_flow_denied_on_the_verification_page(sandbox) -> None:
    info = sandbox.info()

    def on_code(code: str, uri: str) -> None:
        _decide_device_code(info, code, uri, "deny")

    with pytest.raises(SfwizardError) as err:
        signin.device_login(info["login_url"], info["client_id"], on_code=on_code, ca_cert=info["ca_cert"],
                            min_interval=0.0, timeout=20)
    assert "denied" in err.value.message
    assert "--device" in err.value.hint


def test_device_flow_code_expired_at_the_server(sandbox, monkeypatch) -> None:
    from datetime import timedelta

    info = sandbox.info()
    real_now = sandbox.state.now

    def on_code(code: str, uri: str) -> None:  # the person never comes; eleven minutes pass
        monkeypatch.setattr(sandbox.state, "now", lambda: real_now() + timedelta(minutes=11))

    with pytest.raises(SfwizardError) as err:
        signin.device_login(info["login_url"], info["client_id"], on_code=on_code, ca_cert=info["ca_cert"],
                            min_interval=0.0, timeout=20)
    assert "expired" in str(err.value)


def test_device_flow_unknown_client_is_explained(sandbox) -> None:
    info = sandbox.info()
    with pytest.raises(SfwizardError, match="device sign-in is not available"):
        signin.device_login(info["login_url"], "not-a-client", on_code=lambda c, u: None, ca_cert=info["ca_cert"])


_START = {"device_code": "dc", "user_code": "BCDF2345", "verification_uri": "https://x/setup/connect",
          "interval": 5}
_SUCCESS = {"access_token": "00Dx!tok", "refresh_token": "5Aep-r", "instance_url": "https://x",
            "id": "https://x/id/00D000000000001AAA/005000000000001AAA", "issued_at": "1"}


def _scripted(monkeypatch, answers: list[dict]) -> tuple[CancelToken, list[float], list[dict]]:
    script = iter(answers)
    forms: list[dict] = []

    def fake_post(login_url: str, form: dict, ca_cert) -> dict:
        forms.append(dict(form))
        return next(script)

    monkeypatch.setattr(signin, "_post_token_raw", fake_post)
    waits: list[float] = []
    token = CancelToken()
    monkeypatch.setattr(token, "wait", lambda seconds: (waits.append(seconds), time.sleep(0.001)))
    return token, waits, forms


def test_device_flow_slow_down_adds_five_seconds_and_keeps_it(monkeypatch) -> None:
    cancel, waits, forms = _scripted(monkeypatch, [_START, {"error": "slow_down"},
                                                   {"error": "authorization_pending"}, _SUCCESS])
    tokens = signin.device_login("https://x", "cid", on_code=lambda c, u: None, cancel=cancel)
    assert waits == [5.0, 10.0, 10.0]
    assert tokens.access_token == "00Dx!tok" and tokens.source == "device"
    assert tokens.org_id == "00D000000000001AAA" and tokens.user_id == "005000000000001AAA"
    assert forms[0] == {"response_type": "device_code", "client_id": "cid", "scope": signin.SCOPES}
    assert all(f == {"grant_type": "device", "client_id": "cid", "code": "dc"} for f in forms[1:])


def test_device_flow_slow_down_grows_from_min_interval(monkeypatch) -> None:
    cancel, waits, _ = _scripted(monkeypatch, [_START, {"error": "authorization_pending"}, {"error": "slow_down"},
                                               {"error": "slow_down"}, _SUCCESS])
    signin.device_login("https://x", "cid", on_code=lambda c, u: None, cancel=cancel, min_interval=0.5)
    assert waits == [0.5, 0.5, 5.5, 10.5]


@pytest.mark.parametrize("error,words", [("access_denied", "denied"), ("expired_token", "expired")])
def test_device_flow_denied_or_expired_scripted(monkeypatch, error: str, words: str) -> None:
    cancel, _, _ = _scripted(monkeypatch, [_START, {"error": "authorization_pending"},
                                           {"error": error, "error_description": "device code expired"}])
    with pytest.raises(SfwizardError) as err:
        signin.device_login("https://x", "cid", on_code=lambda c, u: None, cancel=cancel)
    assert words in str(err.value)


def test_device_flow_gives_up_at_its_own_deadline(monkeypatch) -> None:
    cancel, waits, _ = _scripted(monkeypatch, [_START] + [{"error": "authorization_pending"}] * 100_000)
    with pytest.raises(SfwizardError, match="expired before it was approved"):
        signin.device_login("https://x", "cid", on_code=lambda c, u: None, cancel=cancel, timeout=0.2)
    assert waits


# -- 7.-9. refresh, invalid_grant, revoke ----------------------------------------------------------------------
def test_refresh_with_rotation_saves_the_new_token_first_and_kills_the_old(sandbox) -> None:
    info = sandbox.info()
    tokens = _sign_in(info)
    sandbox.state.connected_apps[info["client_id"]].rotate_refresh_tokens = True
    events: list[tuple[str, signin.TokenSet | None]] = []

    def save(t: signin.TokenSet) -> None:
        events.append(("save", t))

    fresh = signin.refresh(tokens, save=save, ca_cert=info["ca_cert"])
    events.append(("returned", None))

    assert [e[0] for e in events] == ["save", "returned"]
    saved = events[0][1]
    assert saved == fresh
    assert saved.refresh_token and saved.refresh_token != tokens.refresh_token
    assert saved.access_token != tokens.access_token
    assert (saved.org_id, saved.user_id, saved.source) == (tokens.org_id, tokens.user_id, "web")
    assert _limits_status(info, saved.access_token) == 200
    with pytest.raises(signin.SignInRequired):
        signin.refresh(tokens, save=save, ca_cert=info["ca_cert"])  # the old refresh token died
    assert len([e for e in events if e[0] == "save"]) == 1  # a refused refresh saves nothing
    # ...and the new one goes on working (and rotates again).
    again = signin.refresh(saved, save=lambda t: None, ca_cert=info["ca_cert"])
    assert again.refresh_token not in (saved.refresh_token, tokens.refresh_token)


def test_refresh_without_rotation_keeps_the_refresh_token(sandbox) -> None:
    info = sandbox.info()
    tokens = _sign_in(info)
    assert not sandbox.state.connected_apps[info["client_id"]].rotate_refresh_tokens
    saved: list[signin.TokenSet] = []
    fresh = signin.refresh(tokens, save=saved.append, ca_cert=info["ca_cert"])
    assert saved == [fresh]
    assert fresh.refresh_token == tokens.refresh_token and fresh.access_token != tokens.access_token
    assert _limits_status(info, fresh.access_token) == 200
    assert signin.refresh(tokens, save=saved.append, ca_cert=info["ca_cert"]).access_token


def test_a_bogus_refresh_token_asks_to_sign_in_again(sandbox) -> None:
    info = sandbox.info()
    bogus = signin.TokenSet("00Dx!y", info["instance_url"], info["login_url"], info["client_id"],
                            refresh_token="5Aep861" + "z" * 60)
    saved: list = []
    with pytest.raises(signin.SignInRequired) as err:
        signin.refresh(bogus, save=saved.append, ca_cert=info["ca_cert"])
    assert isinstance(err.value, SfwizardError)
    assert "sign in again" in str(err.value) and "sfwizard login" in err.value.hint
    assert saved == []


def test_no_refresh_token_is_sign_in_required_without_a_call() -> None:
    tokens = signin.TokenSet("00Dx!y", "https://127.0.0.1:9", "https://127.0.0.1:9", "cid")
    with pytest.raises(signin.SignInRequired, match="no refresh token"):
        signin.refresh(tokens, save=lambda t: None)


def test_other_token_errors_carry_a_hint(sandbox) -> None:
    info = sandbox.info()
    tokens = signin.TokenSet("00Dx!y", info["instance_url"], info["login_url"], "no-such-client",
                             refresh_token="5Aep" + "q" * 40)
    with pytest.raises(SfwizardError) as err:
        signin.refresh(tokens, save=lambda t: None, ca_cert=info["ca_cert"])
    assert not isinstance(err.value, signin.SignInRequired)
    assert "invalid_client_id" in err.value.message and "Consumer Key" in err.value.hint


def test_revoke_then_use_is_refused(sandbox) -> None:
    info = sandbox.info()
    tokens = _sign_in(info)
    assert _limits_status(info, tokens.access_token) == 200
    assert signin.revoke(tokens, ca_cert=info["ca_cert"]) is True
    assert _limits_status(info, tokens.access_token) == 401
    with pytest.raises(signin.SignInRequired):
        signin.refresh(tokens, save=lambda t: None, ca_cert=info["ca_cert"])
    assert signin.revoke(tokens, ca_cert=info["ca_cert"]) is False  # already gone


def test_revoke_unreachable_is_false_not_an_exception() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connection refused
        tokens = signin.TokenSet("00Dx!y", f"https://127.0.0.1:{port}", f"https://127.0.0.1:{port}", "cid")
        assert signin.revoke(tokens) is False


def test_a_revoked_saved_sign_in_fails_to_open_with_a_sign_in_error(sandbox, monkeypatch) -> None:
    from sfwizard.recovery.connection import open_saved

    info = sandbox.info()
    monkeypatch.setenv("SFWIZARD_CA_CERT", info["ca_cert"])
    tokens = _sign_in(info)
    credentials.save(tokens)
    assert signin.revoke(tokens, ca_cert=info["ca_cert"])
    with pytest.raises(SfwizardError) as err:
        with open_saved():
            pass  # opening reads the org and the user once: the revoked token fails there
    assert isinstance(err.value, signin.SignInRequired)
    assert "sfwizard login" in err.value.hint


def test_check_with_a_revoked_session_is_one_line_not_a_traceback(sandbox) -> None:
    info = sandbox.info()
    tokens = _sign_in(info)
    credentials.save(tokens)
    assert signin.revoke(tokens, ca_cert=info["ca_cert"])
    out = _cli("check", "--only", "identity.org", env={"SFWIZARD_CA_CERT": info["ca_cert"]})
    assert out.returncode in (1, 2), out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert "sfwizard login" in out.stderr
    assert tokens.access_token not in out.stderr + out.stdout
    assert tokens.refresh_token not in out.stderr + out.stdout


def test_check_not_signed_in_says_so() -> None:
    out = _cli("check", "--only", "identity.org")
    assert out.returncode == 2 and "not signed in" in out.stderr and "Traceback" not in out.stderr


# -- 10. where the sign-in is kept ------------------------------------------------------------------------
def _tokens() -> signin.TokenSet:
    return signin.TokenSet("00D000000000001!" + "a" * 40, "https://x.my.salesforce.com", "https://login",
                           "cid", refresh_token="5Aep" + "b" * 40, id_url="https://login/id/00D/005",
                           org_id="00D", user_id="005", username="admin@x", source="web")


class _MemoryKeyring:
    """Built lazily so keyring is imported only where a test needs it."""

    @staticmethod
    def make(hang: threading.Event | None = None):
        from keyring.backend import KeyringBackend
        from keyring.errors import PasswordDeleteError

        class Memory(KeyringBackend):
            priority = 1

            def __init__(self) -> None:
                super().__init__()
                self.store: dict[tuple[str, str], str] = {}

            def get_password(self, service, username):
                if hang is not None:
                    hang.wait(10)
                return self.store.get((service, username))

            def set_password(self, service, username, password):
                if hang is not None:
                    hang.wait(10)
                self.store[(service, username)] = password

            def delete_password(self, service, username):
                if hang is not None:
                    hang.wait(10)
                if self.store.pop((service, username), None) is None:
                    raise PasswordDeleteError("not found")

        return Memory()


@pytest.fixture
def use_keyring():
    import keyring

    old = keyring.get_keyring()
    try:
        yield keyring.set_keyring
    finally:
        keyring.set_keyring(old)


def test_without_a_keychain_the_sign_in_goes_to_a_0600_file_with_one_warning(capsys, sfwizard_home) -> None:
    tokens = _tokens()
    where = credentials.save(tokens)
    path = sfwizard_home / "data" / "signin.json"
    assert where == str(path) and path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "plain text" in err and str(path) in err
    assert tokens.access_token not in err and tokens.refresh_token not in err
    assert credentials.load() == tokens
    credentials.save(tokens)  # warned once per run, not on every rotation
    assert capsys.readouterr().err == ""
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    credentials.delete()
    assert not path.exists() and credentials.load() is None
    credentials.delete()  # deleting twice is fine


def test_a_working_keychain_keeps_the_sign_in_and_no_file(use_keyring, sfwizard_home, capsys) -> None:
    path = sfwizard_home / "data" / "signin.json"
    credentials.save(_tokens())  # first, as if from a run with no keychain
    assert path.exists()
    memory = _MemoryKeyring.make()
    use_keyring(memory)
    tokens = _tokens()
    assert credentials.save(tokens) == "keyring"
    assert not path.exists()  # the plain-text copy went once the keychain worked
    assert memory.store[(credentials.SERVICE, credentials.ACCOUNT)] == tokens.to_json()
    assert credentials.load() == tokens
    credentials.delete()
    assert memory.store == {} and credentials.load() is None


def test_a_hanging_keychain_is_given_up_on_and_the_file_used(use_keyring, monkeypatch) -> None:
    tokens = _tokens()
    credentials.save(tokens)  # the fail backend: the file
    release = threading.Event()
    use_keyring(_MemoryKeyring.make(hang=release))
    monkeypatch.setattr(credentials, "KEYRING_TIMEOUT", 0.2)
    try:
        t0 = time.monotonic()
        assert credentials.load() == tokens
        assert time.monotonic() - t0 < 1.5
    finally:
        release.set()


_HANGING_BACKEND = """
import time
from keyring.backend import KeyringBackend

class Hanging(KeyringBackend):
    priority = 1

    def get_password(self, service, username):
        time.sleep(60)

    def set_password(self, service, username, password):
        time.sleep(60)

    def delete_password(self, service, username):
        time.sleep(60)
"""


def test_a_hanging_keychain_does_not_hang_the_process_at_exit(tmp_path) -> None:
    """Giving up on the keychain is not enough if the interpreter then waits for it on the way out."""
    (tmp_path / "hangkr.py").write_text(_HANGING_BACKEND)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}",
           "PYTHON_KEYRING_BACKEND": "hangkr.Hanging"}
    code = ("from sfwizard.integrations import credentials; credentials.KEYRING_TIMEOUT = 0.2; "
            "print(credentials.load())")
    t0 = time.monotonic()
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail("the process hung at exit waiting for the keychain")
    assert out.returncode == 0 and out.stdout.strip() == "None", out.stderr
    assert time.monotonic() - t0 < 8


# -- 11. secrets never in logs or output ---------------------------------------------------------------------
def test_no_secret_reaches_logs_or_output(sandbox, caplog, capsys, monkeypatch) -> None:
    from sfwizard.sandbox.salesforce.tokens import token_store

    caplog.set_level(logging.DEBUG)
    info = sandbox.info()
    verifiers: list[str] = []
    real_pair = signin.pkce_pair

    def recording_pair() -> tuple[str, str]:
        pair = real_pair()
        verifiers.append(pair[0])
        return pair

    monkeypatch.setattr(signin, "pkce_pair", recording_pair)
    tokens = _sign_in(info)
    fresh = signin.refresh(tokens, save=lambda t: None, ca_cert=info["ca_cert"])
    assert signin.revoke(fresh, ca_cert=info["ca_cert"])
    codes = list(token_store(sandbox.state).codes)
    assert codes and verifiers

    out = capsys.readouterr()
    everything = caplog.text + out.out + out.err
    for secret in (tokens.access_token, tokens.refresh_token, fresh.access_token, info["password"],
                   info["client_secret"], *verifiers):
        assert secret not in everything
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("sfwizard"))
    for code in codes:  # the stand-in browser's own HTTP client may log its URL; sfwizard never does
        assert code not in ours
    for secret in (tokens.access_token, tokens.refresh_token):
        assert secret not in repr(tokens) and secret not in tokens.describe()


# -- 12. settings --------------------------------------------------------------------------------------------
def _config(text: str) -> Path:
    from sfwizard import paths

    path = paths.config_dir() / "config.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("key", ["px_api_key", "client_secret", "password"])
def test_a_secret_in_the_config_file_is_refused(key: str) -> None:
    path = _config(f"client_id: abc\n{key}: hunter2hunter2\n")
    with pytest.raises(SfwizardError) as err:
        settings.resolve()
    assert key in err.value.message and str(path) in err.value.message
    assert "hunter2hunter2" not in str(err.value)


def test_an_unknown_config_key_names_file_and_line() -> None:
    path = _config("client_id: abc\nlogin_url: test\nclientid: typo\n")
    with pytest.raises(SfwizardError) as err:
        settings.resolve()
    assert err.value.message.startswith(f"{path}:3:1:")
    assert "'clientid'" in err.value.message and "client_id" in err.value.hint


@pytest.mark.parametrize("url", ["http://x", "http://localhost:8443", "ftp://login.salesforce.com", "https://"])
def test_login_url_must_be_https(url: str) -> None:
    with pytest.raises(SfwizardError, match="https"):
        settings.resolve({"login_url": url})


def test_login_url_names() -> None:
    assert settings.resolve().login_url == "https://login.salesforce.com"
    assert settings.resolve({"login_url": "test"}).login_url == "https://test.salesforce.com"
    assert settings.resolve({"login_url": "https://acme.my.salesforce.com/"}).login_url == \
        "https://acme.my.salesforce.com"


def test_no_client_id_points_at_the_readme() -> None:
    conf = settings.resolve()
    assert conf.client_id is None
    with pytest.raises(SfwizardError) as err:
        conf.require_client_id()
    assert "client id" in err.value.message
    assert "README" in err.value.hint and "SFWIZARD_CLIENT_ID" in err.value.hint and "--client-id" in err.value.hint


def test_flags_beat_env_beat_config(monkeypatch) -> None:
    _config("client_id: from-config\nlogin_url: test\nport: 1818\n")
    conf = settings.resolve()
    assert (conf.client_id, conf.login_url, conf.port) == ("from-config", "https://test.salesforce.com", 1818)
    monkeypatch.setenv("SFWIZARD_CLIENT_ID", "from-env")
    monkeypatch.setenv("SFWIZARD_LOGIN_URL", "https://env.my.salesforce.com")
    conf = settings.resolve()
    assert conf.client_id == "from-env" and conf.require_client_id() == "from-env"
    assert conf.login_url == "https://env.my.salesforce.com"
    conf = settings.resolve({"client_id": "from-flag", "login_url": "production", "port": 0})
    assert (conf.client_id, conf.login_url, conf.port) == ("from-flag", "https://login.salesforce.com", 0)
    # A flag left unset (None) does not hide the environment.
    assert settings.resolve({"client_id": None}).client_id == "from-env"


def test_ca_cert_comes_from_the_environment(monkeypatch, tmp_path) -> None:
    assert settings.resolve().ca_cert is None
    monkeypatch.setenv("SFWIZARD_CA_CERT", str(tmp_path / "ca.pem"))
    assert settings.resolve().ca_cert == str(tmp_path / "ca.pem")


# -- 13. logout through the CLI ------------------------------------------------------------------------------
def test_logout_when_not_signed_in() -> None:
    out = _cli("logout")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Not signed in."
    assert "Traceback" not in out.stderr


def test_logout_revokes_and_deletes_the_saved_sign_in(sandbox, sfwizard_home) -> None:
    info = sandbox.info()
    tokens = _sign_in(info)
    credentials.save(tokens)
    path = sfwizard_home / "data" / "signin.json"
    assert path.exists() and _limits_status(info, tokens.access_token) == 200
    out = _cli("logout", env={"SFWIZARD_CA_CERT": info["ca_cert"]})
    assert out.returncode == 0, out.stderr
    assert "Signed out" in out.stdout and "revoked" in out.stdout
    assert not path.exists()
    assert _limits_status(info, tokens.access_token) == 401
    with pytest.raises(signin.SignInRequired):
        signin.refresh(tokens, save=lambda t: None, ca_cert=info["ca_cert"])
    assert tokens.access_token not in out.stdout + out.stderr
    assert _cli("logout").stdout.strip() == "Not signed in."


def test_logout_unreachable_still_deletes_and_says_so(sfwizard_home) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        credentials.save(signin.TokenSet("00Dx!y", f"https://127.0.0.1:{port}", f"https://127.0.0.1:{port}",
                                         "cid", refresh_token="5Aep" + "c" * 40))
        out = _cli("logout")
    assert out.returncode == 0, out.stderr
    assert "could not be reached" in out.stdout and "Connected Apps OAuth Usage" in out.stdout
    assert not (sfwizard_home / "data" / "signin.json").exists()


def test_a_damaged_saved_sign_in_asks_to_sign_in_again(sfwizard_home) -> None:
    from sfwizard import paths
    from sfwizard.integrations import credentials
    from sfwizard.integrations.signin import SignInRequired

    (paths.data_dir() / "signin.json").write_text("{not json")
    with pytest.raises(SignInRequired) as err:
        credentials.load()
    assert "damaged" in err.value.message and "sfwizard login" in err.value.hint
