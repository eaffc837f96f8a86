"""Revoking the sign-in: a revoked token is refused everywhere, and an unreachable server is an answer, not an
exception."""

from __future__ import annotations

import socket

import pytest

from sfwizard.integrations import signin


def test_revoke_then_use_is_refused(sandbox, sign_in, limits_status) -> None:
    info = sandbox.info()
    tokens = sign_in(info)
    assert limits_status(info, tokens.access_token) == 200
    assert signin.revoke(tokens, ca_cert=info["ca_cert"]) is True
    assert limits_status(info, tokens.access_token) == 401
    with pytest.raises(signin.SignInRequired):
        signin.refresh(tokens, save=lambda t: None, ca_cert=info["ca_cert"])
    assert signin.revoke(tokens, ca_cert=info["ca_cert"]) is False  # already gone


def test_revoke_unreachable_is_false_not_an_exception(make_tokens) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connection refused
        tokens = make_tokens(instance_url=f"https://127.0.0.1:{port}", login_url=f"https://127.0.0.1:{port}")
        assert signin.revoke(tokens) is False
