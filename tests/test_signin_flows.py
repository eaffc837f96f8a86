"""The wizard's own sign-in against the sandbox: PKCE through a real loopback listener, the device flow,
refresh rotation, invalid_grant, revoke, and where the tokens are kept."""

from __future__ import annotations

import logging
import socket
import stat
import threading
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sfwizard import credentials, signin
from sfwizard.demo import approve_in_sandbox
from sfwizard.errors import SfwizardError
from sfwizard.transport import tls_verify


def _sign_in(info, **kw) -> signin.TokenSet:
    def on_url(url: str) -> None:
        threading.Thread(target=approve_in_sandbox, args=(url, info), daemon=True).start()

    return signin.web_login(info["login_url"], info["client_id"], port=0, open_browser=False, on_url=on_url,
                            ca_cert=info["ca_cert"], timeout=30, **kw)


def _works(info, token: str) -> int:
    with httpx.Client(verify=tls_verify(info["ca_cert"])) as c:
        return c.get(info["instance_url"] + "/services/data/v60.0/limits",
                     headers={"Authorization": f"Bearer {token}"}).status_code


def test_pkce_sign_in_through_the_loopback_listener(sandbox, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    info = sandbox.info()
    tokens = _sign_in(info)
    assert _works(info, tokens.access_token) == 200
    assert tokens.org_id == info["org_id"] and tokens.refresh_token
    for secret in (tokens.access_token, tokens.refresh_token, info["password"]):
        assert secret not in caplog.text


def test_a_wrong_state_is_refused(sandbox) -> None:
    info = sandbox.info()
    seen: dict = {}

    def forge(url: str) -> None:
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        seen["resp"] = httpx.get(redirect + "?code=stolen&state=not-ours")

    with pytest.raises(SfwizardError, match="state"):
        signin.web_login(info["login_url"], info["client_id"], port=0, open_browser=False, on_url=forge,
                         ca_cert=info["ca_cert"], timeout=10)
    assert seen["resp"].status_code == 400


def test_the_listener_answers_get_only(sandbox) -> None:
    info = sandbox.info()
    seen: dict = {}

    def post_then_approve(url: str) -> None:
        redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        seen["post"] = httpx.post(redirect, data={"code": "x"}).status_code
        threading.Thread(target=approve_in_sandbox, args=(url, info), daemon=True).start()

    signin.web_login(info["login_url"], info["client_id"], port=0, open_browser=False, on_url=post_then_approve,
                     ca_cert=info["ca_cert"], timeout=30)
    assert seen["post"] == 405


def test_no_answer_times_out_with_a_way_forward(sandbox) -> None:
    info = sandbox.info()
    with pytest.raises(SfwizardError) as err:
        signin.web_login(info["login_url"], info["client_id"], port=0, open_browser=False, on_url=lambda u: None,
                         ca_cert=info["ca_cert"], timeout=0.5)
    assert "within 0 s" in err.value.message or "no answer" in err.value.message
    assert "--device" in err.value.hint


def test_a_taken_port_is_named(sandbox) -> None:
    info = sandbox.info()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SfwizardError) as err:
            signin.web_login(info["login_url"], info["client_id"], port=port, open_browser=False,
                             on_url=lambda u: None, ca_cert=info["ca_cert"], timeout=5)
    assert f"port {port}" in err.value.message and "--port" in err.value.hint


def test_device_flow_approved_on_the_verification_page(sandbox) -> None:
    info = sandbox.info()

    def on_code(code: str, uri: str) -> None:
        threading.Thread(target=approve_in_sandbox, args=(uri, {**info, "user_code": code}), daemon=True).start()

    tokens = signin.device_login(info["login_url"], info["client_id"], on_code=on_code, ca_cert=info["ca_cert"],
                                 min_interval=0.2, timeout=30)
    assert _works(info, tokens.access_token) == 200


def test_device_flow_slows_down_when_told(monkeypatch) -> None:
    answers = iter([{"device_code": "d", "user_code": "U", "verification_uri": "https://x/setup/connect",
                     "interval": 1}, {"error": "slow_down"}, {"error": "authorization_pending"},
                    {"access_token": "00Dx!y", "instance_url": "https://x", "id": "https://x/id/00D/005"}])
    waits: list[float] = []
    monkeypatch.setattr(signin, "_post_token_raw", lambda *a, **k: next(answers))
    token = signin.CancelToken()
    monkeypatch.setattr(token, "wait", waits.append)
    signin.device_login("https://x", "cid", on_code=lambda c, u: None, cancel=token)
    assert waits == [1.0, 6.0, 6.0]  # 5 s more after slow_down, and it stays slower (RFC 8628)


@pytest.mark.parametrize("error,words", [("access_denied", "denied"), ("expired_token", "expired")])
def test_device_flow_denied_or_expired(monkeypatch, error: str, words: str) -> None:
    answers = iter([{"device_code": "d", "user_code": "U", "verification_uri": "https://x", "interval": 0},
                    {"error": error, "error_description": "device code expired"}])
    monkeypatch.setattr(signin, "_post_token_raw", lambda *a, **k: next(answers))
    with pytest.raises(SfwizardError) as err:
        signin.device_login("https://x", "cid", on_code=lambda c, u: None)
    assert words in str(err.value)


def test_refresh_rotation_saves_the_new_token_and_kills_the_old(sandbox) -> None:
    info = sandbox.info()
    sandbox.state.connected_apps[info["client_id"]].rotate_refresh_tokens = True
    tokens = _sign_in(info)
    saved: list[signin.TokenSet] = []
    fresh = signin.refresh(tokens, save=saved.append, ca_cert=info["ca_cert"])
    assert saved == [fresh] and fresh.refresh_token != tokens.refresh_token
    assert _works(info, fresh.access_token) == 200
    with pytest.raises(signin.SignInRequired):
        signin.refresh(tokens, save=saved.append, ca_cert=info["ca_cert"])  # the old one died


def test_invalid_grant_asks_to_sign_in_again(sandbox) -> None:
    info = sandbox.info()
    bogus = signin.TokenSet("00Dx!y", info["instance_url"], info["login_url"], info["client_id"],
                            refresh_token="5Aep861" + "z" * 60)
    with pytest.raises(signin.SignInRequired) as err:
        signin.refresh(bogus, save=lambda t: None, ca_cert=info["ca_cert"])
    assert "sfwizard login" in err.value.hint


def test_revoke_then_use_is_refused(sandbox) -> None:
    info = sandbox.info()
    tokens = _sign_in(info)
    assert signin.revoke(tokens, ca_cert=info["ca_cert"])
    assert _works(info, tokens.access_token) == 401


def test_without_a_keychain_tokens_go_to_a_0600_file_with_a_warning(capsys) -> None:
    tokens = signin.TokenSet("00Dx!" + "a" * 40, "https://x", "https://login", "cid", refresh_token="5Aep" + "b" * 40)
    where = credentials.save(tokens)
    assert stat.S_IMODE(credentials._file().stat().st_mode) == 0o600 and where == str(credentials._file())
    err = capsys.readouterr().err
    assert "plain text" in err and tokens.access_token not in err
    assert credentials.load() == tokens
    credentials.delete()
    assert credentials.load() is None


def test_a_hanging_keychain_is_given_up_on(monkeypatch) -> None:
    import time

    import keyring
    from keyring.backend import KeyringBackend

    class Hanging(KeyringBackend):
        priority = 1

        def get_password(self, service, username):
            time.sleep(5)

        def set_password(self, service, username, password):
            time.sleep(5)

        def delete_password(self, service, username):
            pass

    old = keyring.get_keyring()
    keyring.set_keyring(Hanging())
    monkeypatch.setattr(credentials, "KEYRING_TIMEOUT", 0.2)
    try:
        t0 = time.monotonic()
        assert credentials.load() is None
        assert time.monotonic() - t0 < 2
    finally:
        keyring.set_keyring(old)


def test_config_rules(monkeypatch, sfwizard_home) -> None:
    from sfwizard import paths, settings

    with pytest.raises(SfwizardError, match="https"):
        settings.resolve({"login_url": "http://login.example"})
    with pytest.raises(SfwizardError, match="client id"):
        settings.resolve().require_client_id()
    monkeypatch.setenv("SFWIZARD_CLIENT_ID", "from-env")
    assert settings.resolve().client_id == "from-env"
    assert settings.resolve({"client_id": "from-flag"}).client_id == "from-flag"
    (paths.config_dir() / "config.yaml").write_text("client_id: x\npx_api_key: secret\n")
    with pytest.raises(SfwizardError, match="px_api_key"):
        settings.resolve()
    (paths.config_dir() / "config.yaml").write_text("client_id: x\nbogus: 1\n")
    with pytest.raises(SfwizardError, match=r"config.yaml:2:1: unknown key 'bogus'"):
        settings.resolve()
