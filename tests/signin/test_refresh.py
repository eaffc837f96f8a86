"""Refreshing the sign-in: with and without rotation (the new token saved before anything else), a dead or
missing refresh token asking to sign in again, and answers that are not OAuth at all."""

from __future__ import annotations

import pytest

from sfwizard.errors import SfwizardError
from sfwizard.integrations import signin


def test_refresh_with_rotation_saves_the_new_token_first_and_kills_the_old(sandbox, sign_in, limits_status) -> None:
    info = sandbox.info()
    tokens = sign_in(info)
    sandbox.state.connected_apps[info["client_id"]].rotate_refresh_tokens = True
    events: list[tuple[str, signin.TokenSet | None]] = []

    def save(t: signin.TokenSet) -> None:
        events.append(("save", t))

    fresh = signin.refresh(tokens, save=save, ca_cert=info["ca_cert"])
    events.append(("returned", None))

    assert [e[0] for e in events] == ["save", "returned"]
    saved = events[0][1]
    assert saved == fresh
    assert saved.refresh_token
    assert saved.refresh_token != tokens.refresh_token
    assert saved.access_token != tokens.access_token
    assert (saved.org_id, saved.user_id, saved.source) == (tokens.org_id, tokens.user_id, "web")
    assert limits_status(info, saved.access_token) == 200
    with pytest.raises(signin.SignInRequired):
        signin.refresh(tokens, save=save, ca_cert=info["ca_cert"])  # the old refresh token died
    assert len([e for e in events if e[0] == "save"]) == 1  # a refused refresh saves nothing
    # ...and the new one goes on working (and rotates again).
    again = signin.refresh(saved, save=lambda t: None, ca_cert=info["ca_cert"])
    assert again.refresh_token not in (saved.refresh_token, tokens.refresh_token)


def test_refresh_without_rotation_keeps_the_refresh_token(sandbox, sign_in, limits_status) -> None:
    info = sandbox.info()
    tokens = sign_in(info)
    assert not sandbox.state.connected_apps[info["client_id"]].rotate_refresh_tokens
    saved: list[signin.TokenSet] = []
    fresh = signin.refresh(tokens, save=saved.append, ca_cert=info["ca_cert"])
    assert saved == [fresh]
    assert fresh.refresh_token == tokens.refresh_token
    assert fresh.access_token != tokens.access_token
    assert limits_status(info, fresh.access_token) == 200
    assert signin.refresh(tokens, save=saved.append, ca_cert=info["ca_cert"]).access_token


def test_a_bogus_refresh_token_asks_to_sign_in_again(sandbox, make_tokens) -> None:
    info = sandbox.info()
    bogus = make_tokens(access_token="00Dx!y", instance_url=info["instance_url"], login_url=info["login_url"],
                        client_id=info["client_id"], refresh_token="5Aep861" + "z" * 60)
    saved: list = []
    with pytest.raises(signin.SignInRequired) as err:
        signin.refresh(bogus, save=saved.append, ca_cert=info["ca_cert"])
    assert isinstance(err.value, SfwizardError)
    assert "sign in again" in str(err.value)
    assert "sfwizard login" in err.value.hint
    assert saved == []


def test_no_refresh_token_is_sign_in_required_without_a_call(make_tokens) -> None:
    tokens = make_tokens(instance_url="https://127.0.0.1:9", login_url="https://127.0.0.1:9", refresh_token=None)
    with pytest.raises(signin.SignInRequired, match="no refresh token"):
        signin.refresh(tokens, save=lambda t: None)


def test_other_token_errors_carry_a_hint(sandbox, make_tokens) -> None:
    info = sandbox.info()
    tokens = make_tokens(instance_url=info["instance_url"], login_url=info["login_url"], client_id="no-such-client")
    with pytest.raises(SfwizardError) as err:
        signin.refresh(tokens, save=lambda t: None, ca_cert=info["ca_cert"])
    assert not isinstance(err.value, signin.SignInRequired)
    assert "invalid_client_id" in err.value.message
    assert "Consumer Key" in err.value.hint


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
def test_an_answer_that_is_not_an_oauth_token_is_named(monkeypatch, make_tokens, status: int, body: object) -> None:
    """Pointed at a server that is not a Salesforce login host, its JSON is not taken for a token."""
    monkeypatch.setattr(signin, "_http", lambda verify: _FakeHttp(_Answer(status, body)))
    saved: list = []
    with pytest.raises(SfwizardError) as err:
        signin.refresh(make_tokens(access_token="a" * 20, instance_url="https://x", login_url="https://l",
                                   refresh_token="r" * 20), save=saved.append)
    assert err.value.message == f"the login server https://l answered HTTP {status} without an OAuth token answer"
    assert "--login-url" in err.value.hint
    assert saved == []
