"""The device flow: driven through the sandbox's verification pages as a person on another device would,
and scripted answer by answer for the polling rules (slow_down, deadlines)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import httpx
import pytest

from sfwizard.cancel import CancelToken
from sfwizard.errors import SfwizardError
from sfwizard.integrations import signin
from sfwizard.integrations.transport import tls_verify


def _hidden(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))


def _decide_device_code(info: dict, user_code: str, verification_uri: str, decision: str) -> str:
    """A person on another device: open the verification page, enter the code, log in, Allow or Deny."""
    with httpx.Client(verify=tls_verify(info["ca_cert"]), follow_redirects=True, timeout=10) as web:
        page = web.get(verification_uri)
        assert page.status_code == 200, page.text
        login = web.post(verification_uri, data={**_hidden(page.text), "user_code": user_code})
        assert login.status_code == 200, login.text
        assert 'name="pw"' in login.text, login.text
        allow = web.post(info["login_url"] + "/services/oauth2/login",
                         data={**_hidden(login.text), "username": info["username"], "pw": info["password"]})
        assert allow.status_code == 200, allow.text
        assert 'value="allow"' in allow.text, allow.text
        done = web.post(str(allow.url).split("?")[0], data={**_hidden(allow.text), "decision": decision})
        assert done.status_code == 200, done.text
        return done.text


# -- through the sandbox -----------------------------------------------------------------------------------------
def test_device_flow_approved_on_the_verification_page(sandbox, admin_id, limits_status) -> None:
    info = sandbox.info()
    shown: dict = {}

    def on_code(code: str, uri: str) -> None:
        shown.update(code=code, uri=uri)
        text = _decide_device_code(info, code, uri, "allow")
        assert "connected" in text.lower()

    tokens = signin.device_login(info["login_url"], info["client_id"], on_code=on_code, ca_cert=info["ca_cert"],
                                 min_interval=0.0, timeout=20)
    assert shown["uri"] == info["login_url"] + "/setup/connect"
    assert len(shown["code"]) == 8
    assert tokens.source == "device"
    assert tokens.refresh_token
    assert tokens.org_id == info["org_id"]
    assert tokens.user_id == admin_id
    assert limits_status(info, tokens.access_token) == 200


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


# -- scripted answers ---------------------------------------------------------------------------------------------
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
    assert (tokens.access_token, tokens.source) == ("00Dx!tok", "device")
    assert (tokens.org_id, tokens.user_id) == ("00D000000000001AAA", "005000000000001AAA")
    assert forms[0] == {"response_type": "device_code", "client_id": "cid", "scope": signin.SCOPES}
    assert forms[1:] == [{"grant_type": "device", "client_id": "cid", "code": "dc"}] * 3


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
