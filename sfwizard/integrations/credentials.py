"""Where the wizard's own Salesforce sign-in is kept: the OS keychain, else a 0600 file.

Every keyring call runs under a short timeout: a locked or absent keychain must never hang a
terminal. A rotated refresh token is saved here before any further API call is made.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

from sfwizard import paths
from sfwizard.fileio import read_text, write_atomic
from sfwizard.integrations.signin import TokenSet

log = logging.getLogger("sfwizard")

SERVICE = "sfwizard"
ACCOUNT = "salesforce-session"
KEYRING_TIMEOUT = 3.0
MAX_BYTES = 64 * 1024  # a sign-in is about 1 KB
_warned = False


def _keyring_call(fn_name: str, *args: str) -> tuple[bool, str | None]:
    """(worked, value). Any failure, missing backend or timeout counts as 'did not work'.

    The call runs on a daemon thread: a keychain that never answers is abandoned, and the interpreter
    does not wait for it at exit (a ThreadPoolExecutor worker would be joined there, hanging the CLI).
    """
    box: dict[str, object] = {}

    def call() -> None:
        try:
            import keyring
            from keyring.backends import fail

            if isinstance(keyring.get_keyring(), fail.Keyring):
                raise RuntimeError("no keyring backend")
            box["value"] = getattr(keyring, fn_name)(SERVICE, *args)
        except Exception as exc:  # noqa: BLE001 - every keyring failure means: use the file
            box["error"] = exc

    worker = threading.Thread(target=call, name="sfwizard-keyring", daemon=True)
    worker.start()
    worker.join(KEYRING_TIMEOUT)
    if worker.is_alive() or "error" in box or "value" not in box:
        return False, None
    value = box["value"]
    return True, value if isinstance(value, str) else None


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
    write_atomic(_file(), tokens.to_json().encode(), mode=0o600, what="the sign-in")
    if not _warned:
        print(f"sfwizard: no working OS keychain; the sign-in is kept in plain text in {_file()} (mode 0600)",
              file=sys.stderr)
        _warned = True
    return str(_file())


def load() -> TokenSet | None:
    """The saved sign-in. The file, when there is one, wins over the keychain: a save to the keychain
    deletes the file, so a file that exists was written later (the keychain failed at that save) and
    the keychain's copy may hold a refresh token Salesforce has since rotated away."""
    from sfwizard.errors import SfwizardError
    from sfwizard.integrations.signin import SignInRequired

    path = _file()
    if path.exists() or path.is_symlink():
        try:
            value, where = read_text(path, MAX_BYTES, "saved sign-in"), str(path)
        except SfwizardError as exc:
            raise SignInRequired(f"the saved sign-in cannot be read: {exc.message}") from None
    else:
        value, where = _keyring_call("get_password", ACCOUNT)[1], "the OS keychain"
    if not value:
        return None
    if len(value) > MAX_BYTES:
        raise SignInRequired(f"the saved sign-in in {where} is damaged (too large)")
    try:
        return TokenSet.from_json(value)
    except (ValueError, TypeError, RecursionError):
        raise SignInRequired(f"the saved sign-in in {where} is damaged") from None


def delete() -> None:
    _keyring_call("delete_password", ACCOUNT)
    _file().unlink(missing_ok=True)


# -- the platform's API key (Gainsight PX): the keychain, else a 0600 file — never config.yaml ----------------

PX_KEY = "px_api_key"


def _px_file() -> Path:
    return paths.data_dir() / "px-api-key"


def save_px_key(key: str) -> str:
    """Keep the platform's API key; returns where ("keyring" or the file's path). A keychain that works
    takes it and the file goes; otherwise the file (0600, in the 0700 data folder) holds it."""
    key = key.strip()
    if _keyring_call("set_password", PX_KEY, key)[0]:
        _px_file().unlink(missing_ok=True)
        return "keyring"
    write_atomic(_px_file(), key.encode(), mode=0o600, what="the platform API key")
    return str(_px_file())


def load_px_key() -> tuple[str | None, str]:
    """(the key, "file" or "keychain"), or (None, "") when none is kept. The file wins, as for the sign-in:
    it exists only because the keychain failed at the last save."""
    from sfwizard.errors import SfwizardError

    path = _px_file()
    if path.exists() or path.is_symlink():
        try:
            value = read_text(path, 4096, "platform API key").strip()
        except SfwizardError as exc:
            log.warning("the kept platform API key cannot be read: %s", exc.message)
            return None, ""
        where = "file"
    else:
        value, where = keyring_get(PX_KEY) or "", "keychain"
    if not value:
        return None, ""
    from sfwizard import redact

    redact.default().add(value)  # never in a log, a report or a bundle
    return value, where


def delete_px_key() -> None:
    _keyring_call("delete_password", PX_KEY)
    _px_file().unlink(missing_ok=True)
