"""``sfwizard login`` and ``sfwizard logout`` as a person runs them."""

from __future__ import annotations

import socket

import pytest

from sfwizard.integrations import credentials, signin


def test_login_port_out_of_range_is_one_line(run_cli) -> None:
    out = run_cli("login", "--port", "99999", "--client-id", "x", "--no-browser")
    assert out.returncode == 2
    assert "unexpected error" not in out.stderr
    assert "99999" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_logout_when_not_signed_in(run_cli) -> None:
    out = run_cli("logout")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "Not signed in."
    assert "Traceback" not in out.stderr


def test_logout_revokes_and_deletes_the_saved_sign_in(sandbox, sfwizard_home, sign_in, limits_status, run_cli,
                                                      assert_no_leak) -> None:
    info = sandbox.info()
    tokens = sign_in(info)
    credentials.save(tokens)
    path = sfwizard_home / "data" / "signin.json"
    assert path.exists()
    assert limits_status(info, tokens.access_token) == 200
    out = run_cli("logout", env={"SFWIZARD_CA_CERT": info["ca_cert"]})
    assert out.returncode == 0, out.stderr
    assert "Signed out" in out.stdout
    assert "revoked" in out.stdout
    assert not path.exists()
    assert limits_status(info, tokens.access_token) == 401
    with pytest.raises(signin.SignInRequired):
        signin.refresh(tokens, save=lambda t: None, ca_cert=info["ca_cert"])
    assert_no_leak({"stdout": out.stdout, "stderr": out.stderr},
                   {"access token": tokens.access_token, "refresh token": tokens.refresh_token})
    assert run_cli("logout").stdout.strip() == "Not signed in."


def test_logout_unreachable_still_deletes_and_says_so(sfwizard_home, make_tokens, run_cli) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        credentials.save(make_tokens(instance_url=f"https://127.0.0.1:{port}",
                                     login_url=f"https://127.0.0.1:{port}"))
        out = run_cli("logout")
    assert out.returncode == 0, out.stderr
    assert "could not be reached" in out.stdout
    assert "Connected Apps OAuth Usage" in out.stdout
    assert not (sfwizard_home / "data" / "signin.json").exists()
