"""Where the wizard's own Salesforce sign-in is kept: the OS keychain, else a 0600 file.

Every keyring call runs under a short timeout: a locked or absent keychain must never hang a
terminal. A rotated refresh token is saved here before any further API call is made.
"""

from __future__ import annotations

import concurrent.futures
import logging
import sys
from pathlib import Path

from sfwizard import paths
from sfwizard.fileio import write_atomic
from sfwizard.signin import TokenSet

log = logging.getLogger("sfwizard")

SERVICE = "sfwizard"
ACCOUNT = "salesforce-session"
KEYRING_TIMEOUT = 3.0
_warned = False


def _keyring_call(fn_name: str, *args: str) -> tuple[bool, str | None]:
    """(worked, value). Any failure, missing backend or timeout counts as 'did not work'."""
    def call() -> str | None:
        import keyring
        from keyring.backends import fail

        if isinstance(keyring.get_keyring(), fail.Keyring):
            raise RuntimeError("no keyring backend")
        return getattr(keyring, fn_name)(SERVICE, *args)

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        return True, pool.submit(call).result(timeout=KEYRING_TIMEOUT)
    except Exception:  # noqa: BLE001 - every keyring failure means: use the file
        return False, None
    finally:
        pool.shutdown(wait=False)


def keyring_get(name: str) -> str | None:
    return _keyring_call("get_password", name)[1]


def keyring_set(name: str, value: str) -> bool:
    return _keyring_call("set_password", name, value)[0]


def _file() -> Path:
    return paths.data_dir() / "signin.json"


def save(tokens: TokenSet) -> str:
    """Keep the sign-in; returns where ("keyring" or the file path)."""
    global _warned
    ok, _ = _keyring_call("set_password", ACCOUNT, tokens.to_json())
    if ok:
        _file().unlink(missing_ok=True)
        return "keyring"
    write_atomic(_file(), tokens.to_json().encode(), mode=0o600)
    if not _warned:
        print(f"sfwizard: no working OS keychain; the sign-in is kept in plain text in {_file()} (mode 0600)",
              file=sys.stderr)
        _warned = True
    return str(_file())


def load() -> TokenSet | None:
    ok, value = _keyring_call("get_password", ACCOUNT)
    if ok and value:
        return TokenSet.from_json(value)
    if _file().exists():
        return TokenSet.from_json(_file().read_text(encoding="utf-8"))
    return None


def delete() -> None:
    _keyring_call("delete_password", ACCOUNT)
    _file().unlink(missing_ok=True)
