"""The wizard's sign-in is kept only as long as it is needed: for the recovery session (the OS keychain where
there is one), revoked at Salesforce when the session ends unless the person chose to keep it; a one-off
recovery (--no-keep) asks for no refresh token and keeps nothing anywhere but in memory."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from sfwizard.demo import approve_in_sandbox
from sfwizard.integrations import credentials
from sfwizard.recovery.session import RecoverySession
from sfwizard.recovery.wizard import Recovery, SignInSetup


def _recovery(info: dict, *, keep: bool = True, refresh: bool = True) -> Recovery:
    setup = SignInSetup(login_url=info["login_url"], client_id=info["client_id"], port=0, ca_cert=info["ca_cert"],
                        status_url=info["status_url"], keep=keep, refresh=refresh, open_browser=False)
    return Recovery("gainsight-px", setup, RecoverySession.new("gainsight-px"))


def _sign_in(rec: Recovery, info: dict) -> None:
    def on_url(url: str) -> None:
        threading.Thread(target=approve_in_sandbox, args=(url, info), daemon=True).start()

    rec.sign_in_browser(on_url, timeout=30)


def _saved_state(rec: Recovery) -> dict:
    return RecoverySession.load(rec.session.id, lock=False).sign_in_state


def test_kept_in_the_keychain_for_the_session_and_revoked_at_its_end(sandbox, fake_keyring, limits_status) -> None:
    info = sandbox.info()
    rec = _recovery(info)
    try:
        _sign_in(rec, info)
        assert rec.sign_in_store() == "keychain"
        state = _saved_state(rec)
        assert state["store"] == "keychain" and state["kept"] is False and state["revoked_at"] is None
        tokens = credentials.load()
        assert tokens is not None and tokens.refresh_token  # a resumed session needs no new sign-in
        assert not (Path(credentials._file())).exists()  # nothing in plain text
        result = rec.end_sign_in()
        assert result.revoked and result.forgotten and not result.kept and result.store == "keychain"
        assert "revoked" in result.message
        assert credentials.load() is None
        assert limits_status(info, tokens.access_token) == 401  # the refresh token's access tokens died with it
        assert _saved_state(rec)["revoked_at"]
        assert rec.connection is None
    finally:
        rec.close()


def test_kept_when_the_person_asks(sandbox, fake_keyring, limits_status) -> None:
    info = sandbox.info()
    rec = _recovery(info)
    try:
        _sign_in(rec, info)
        rec.keep_sign_in(True)
        assert _saved_state(rec)["kept"] is True
        result = rec.end_sign_in()
        assert result.kept and not result.revoked and "sfwizard logout" in result.message
        tokens = credentials.load()
        assert tokens is not None and limits_status(info, tokens.access_token) == 200
    finally:
        rec.close()


def test_without_a_keychain_the_file_is_the_store_and_is_deleted_at_the_end(sandbox) -> None:
    info = sandbox.info()
    rec = _recovery(info)
    try:
        _sign_in(rec, info)
        assert rec.sign_in_store() == "file"
        assert credentials._file().exists()
        assert rec.sign_out().revoked
        assert not credentials._file().exists()
    finally:
        rec.close()


def test_a_one_off_recovery_keeps_no_refresh_token_anywhere(sandbox, fake_keyring, limits_status,
                                                            sfwizard_home: Path) -> None:
    info = sandbox.info()
    rec = _recovery(info, keep=False, refresh=False)
    try:
        _sign_in(rec, info)
        assert rec.sign_in_store() == "memory"
        held = rec._held
        assert held is not None and held.refresh_token is None  # Salesforce issued none: none was asked for
        assert credentials.load() is None and not credentials._file().exists()
        assert _saved_state(rec)["refresh_token"] is False
        for path in sfwizard_home.rglob("*"):  # and no token in any file the session wrote
            if path.is_file():
                assert held.access_token not in path.read_text(errors="replace"), path
        result = rec.end_sign_in()
        assert result.revoked and result.store == "memory"
        assert limits_status(info, held.access_token) == 401
    finally:
        rec.close()


def test_a_one_off_run_is_a_wizard_option() -> None:
    from sfwizard.cli import main

    seen = []
    main(["--no-keep"], wizard=lambda options: seen.append(options) or 0)
    assert seen[0].keep_sign_in is False
    main([], wizard=lambda options: seen.append(options) or 0)
    assert seen[1].keep_sign_in is True


def test_login_says_where_the_sign_in_is_kept_and_for_how_long() -> None:
    from sfwizard.cli.account import kept_message

    assert "OS keychain" in kept_message("keyring") and "sfwizard logout" in kept_message("keyring")
    in_file = kept_message("/home/x/.local/share/sfwizard/signin.json")
    assert "plain text" in in_file and "signin.json" in in_file and "0600" in in_file
    assert "revokes it when the recovery ends" in kept_message("keyring")


@pytest.mark.parametrize("keep", [True, False])
def test_setup_from_settings_honours_keep(keep: bool) -> None:
    from sfwizard.recovery.wizard import setup_from_settings

    _, setup = setup_from_settings(keep=keep)
    assert setup.keep is keep and setup.refresh is keep
