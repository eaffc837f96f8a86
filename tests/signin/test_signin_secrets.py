"""Secrets never reach logs or output: a whole sign-in, refresh and revoke, at DEBUG."""

from __future__ import annotations

import logging

from sfwizard.integrations import signin


def test_no_secret_reaches_logs_or_output(sandbox, sign_in, caplog, capsys, monkeypatch, assert_no_leak) -> None:
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
    tokens = sign_in(info)
    fresh = signin.refresh(tokens, save=lambda t: None, ca_cert=info["ca_cert"])
    assert signin.revoke(fresh, ca_cert=info["ca_cert"])
    codes = list(token_store(sandbox.state).codes)
    assert codes
    assert verifiers

    out = capsys.readouterr()
    assert_no_leak({"the log": caplog.text, "stdout": out.out, "stderr": out.err}, {
        "access token": tokens.access_token, "refresh token": tokens.refresh_token,
        "refreshed access token": fresh.access_token, "password": info["password"],
        "client secret": info["client_secret"], **{f"PKCE verifier {i}": v for i, v in enumerate(verifiers)}})
    # The stand-in browser's own HTTP client may log its URL; sfwizard never does.
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("sfwizard"))
    assert_no_leak({"sfwizard's log": ours}, {f"code {i}": code for i, code in enumerate(codes)})
    assert_no_leak({"repr": repr(tokens), "describe()": tokens.describe()},
                   {"access token": tokens.access_token, "refresh token": tokens.refresh_token})
