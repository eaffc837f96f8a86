"""Where the sign-in is kept when the keychain comes and goes (the main suite is test_client_signin.py).

A refresh that rotates the refresh token while the keychain is locked saves to the 0600 file; when the
keychain answers again, the next load must return that newer copy, not the keychain's rotated-away one.
"""

from __future__ import annotations

import stat

import pytest

from sfwizard.integrations import credentials, signin


def _flaky():
    from keyring.backend import KeyringBackend

    class Flaky(KeyringBackend):
        priority = 1

        def __init__(self) -> None:
            super().__init__()
            self.down = False
            self.store: dict[tuple[str, str], str] = {}

        def get_password(self, service, username):
            if self.down:
                raise RuntimeError("keychain locked")
            return self.store.get((service, username))

        def set_password(self, service, username, password):
            if self.down:
                raise RuntimeError("keychain locked")
            self.store[(service, username)] = password

        def delete_password(self, service, username):
            self.store.pop((service, username), None)

    return Flaky()


@pytest.fixture
def flaky(monkeypatch):
    import keyring

    monkeypatch.setattr(credentials, "_warned", False)
    old = keyring.get_keyring()
    backend = _flaky()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(old)


def _tokens(refresh_token: str) -> signin.TokenSet:
    return signin.TokenSet("00D000000000001!" + "a" * 40, "https://x.my.salesforce.com", "https://login", "cid",
                           refresh_token=refresh_token, username="admin@x")


def test_a_rotation_saved_while_the_keychain_was_locked_wins(flaky, sfwizard_home, capsys) -> None:
    assert credentials.save(_tokens("5Aep-old")) == "keyring"
    flaky.down = True
    where = credentials.save(_tokens("5Aep-rotated"))  # the keychain is locked right now
    path = sfwizard_home / "data" / "signin.json"
    assert where == str(path) and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "plain text" in capsys.readouterr().err
    flaky.down = False  # unlocked again: it still holds the old, rotated-away copy
    assert credentials.load().refresh_token == "5Aep-rotated"


def test_the_next_keychain_save_takes_over_from_the_file(flaky, sfwizard_home) -> None:
    flaky.down = True
    credentials.save(_tokens("5Aep-one"))
    flaky.down = False
    assert credentials.save(_tokens("5Aep-two")) == "keyring"
    assert not (sfwizard_home / "data" / "signin.json").exists()
    assert credentials.load().refresh_token == "5Aep-two"
    credentials.delete()
    assert credentials.load() is None and flaky.store == {}


def test_with_no_file_the_keychain_copy_is_loaded(flaky, sfwizard_home) -> None:
    credentials.save(_tokens("5Aep-kept"))
    assert not (sfwizard_home / "data" / "signin.json").exists()
    assert credentials.load().refresh_token == "5Aep-kept"
