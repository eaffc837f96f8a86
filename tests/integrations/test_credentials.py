"""Where the sign-in is kept: the OS keychain, else a 0600 file, and what happens when the keychain comes
and goes (locked, hanging, back again) or the saved copy is damaged.

A refresh that rotates the refresh token while the keychain is locked saves to the file; when the keychain
answers again, the next load must return that newer copy, not the keychain's rotated-away one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sfwizard import paths
from sfwizard.integrations import credentials
from sfwizard.integrations.signin import SignInRequired

ROOT = Path(__file__).resolve().parents[2]


def _file(home: Path) -> Path:
    return home / "data" / "signin.json"


def test_without_a_keychain_the_sign_in_goes_to_a_0600_file_with_one_warning(capsys, sfwizard_home, make_tokens,
                                                                             assert_no_leak) -> None:
    tokens = make_tokens()
    path = _file(sfwizard_home)
    assert credentials.save(tokens) == str(path)
    assert_no_leak(path)  # it holds the tokens by design: mode 0600 is what keeps them
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "plain text" in err
    assert str(path) in err
    assert_no_leak({"the warning": err}, {"access token": tokens.access_token, "refresh token": tokens.refresh_token})
    assert credentials.load() == tokens
    credentials.save(tokens)  # warned once per run, not on every rotation
    assert capsys.readouterr().err == ""
    assert_no_leak(path)
    credentials.delete()
    assert not path.exists()
    assert credentials.load() is None
    credentials.delete()  # deleting twice is fine


def test_a_working_keychain_takes_over_from_the_file(fake_keyring, make_tokens, sfwizard_home) -> None:
    path = _file(sfwizard_home)
    fake_keyring.down = True
    credentials.save(make_tokens(refresh_token="5Aep-one"))  # the keychain is locked: the file
    assert path.exists()
    fake_keyring.down = False
    tokens = make_tokens(refresh_token="5Aep-two")
    assert credentials.save(tokens) == "keyring"
    assert not path.exists()  # the plain-text copy went once the keychain worked
    assert fake_keyring.store[(credentials.SERVICE, credentials.ACCOUNT)] == tokens.to_json()
    assert credentials.load() == tokens
    credentials.delete()
    assert fake_keyring.store == {}
    assert credentials.load() is None


def test_a_rotation_saved_while_the_keychain_was_locked_wins(fake_keyring, make_tokens, sfwizard_home, capsys,
                                                             assert_no_leak) -> None:
    assert credentials.save(make_tokens(refresh_token="5Aep-old")) == "keyring"
    fake_keyring.down = True
    where = credentials.save(make_tokens(refresh_token="5Aep-rotated"))  # the keychain is locked right now
    path = _file(sfwizard_home)
    assert where == str(path)
    assert_no_leak(path)
    assert "plain text" in capsys.readouterr().err
    fake_keyring.down = False  # unlocked again: it still holds the old, rotated-away copy
    assert credentials.load().refresh_token == "5Aep-rotated"


def test_with_no_file_the_keychain_copy_is_loaded(fake_keyring, make_tokens, sfwizard_home) -> None:
    credentials.save(make_tokens(refresh_token="5Aep-kept"))
    assert not _file(sfwizard_home).exists()
    assert credentials.load().refresh_token == "5Aep-kept"


def test_a_hanging_keychain_is_given_up_on_and_the_file_used(fake_keyring, make_tokens, sfwizard_home,
                                                             monkeypatch) -> None:
    fake_keyring.hang = threading.Event()  # never set during the test: every keychain call hangs
    monkeypatch.setattr(credentials, "KEYRING_TIMEOUT", 0.2)
    tokens = make_tokens()
    t0 = time.monotonic()
    assert credentials.load() is None  # no file yet: the keychain is asked, then given up on
    assert credentials.save(tokens) == str(_file(sfwizard_home))
    assert credentials.load() == tokens
    assert time.monotonic() - t0 < 1.5


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
    """Giving up on the keychain is not enough if the interpreter then waits for it on the way out.

    (A backend of its own: the child process imports it by name, so it lives in a file.)"""
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
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "None", out.stderr
    assert time.monotonic() - t0 < 8


def test_a_damaged_saved_sign_in_asks_to_sign_in_again() -> None:
    (paths.data_dir() / "signin.json").write_text("{not json")
    with pytest.raises(SignInRequired) as err:
        credentials.load()
    assert "damaged" in err.value.message
    assert "sfwizard login" in err.value.hint
