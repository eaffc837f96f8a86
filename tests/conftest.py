"""Fixtures every test folder shares.

- ``sfwizard_home`` (autouse): a private SFWIZARD_HOME, no OS keychain, no client id from the environment.
- ``tls_certs``, ``start_sandbox``, ``sandbox``, ``ca_session``: sandboxes on 127.0.0.1 and a client that
  trusts only their CA; ``sign_in`` and ``limits_status``: a real sign-in to one, and whether a token works.
- ``fake_keyring``: the one in-memory keychain (it can be locked or made to hang).
- ``make_tokens``: the one token-set builder.
- ``assert_no_leak``: the one leak assertion, for every test that writes files or output.
"""

from __future__ import annotations

import os
import re
import stat
import sys
import threading
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def tls_certs(tmp_path_factory: pytest.TempPathFactory):
    from sfwizard.sandbox.tls import ensure_certificates

    return ensure_certificates(tmp_path_factory.mktemp("tls"))


SFWIZARD_HOMES: list[Path] = []  # every test's home: tests/reliability scans them all for leaks at the end


@pytest.fixture(autouse=True)
def sfwizard_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data/config folders: nothing leaks into the real user's."""
    home = tmp_path / "sfwizard-home"
    SFWIZARD_HOMES.append(home)
    monkeypatch.setenv("SFWIZARD_HOME", str(home))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.delenv("SFWIZARD_CLIENT_ID", raising=False)
    credentials = sys.modules.get("sfwizard.integrations.credentials")
    if credentials is not None:  # it warns once per process: each test starts unwarned
        monkeypatch.setattr(credentials, "_warned", False)
    return home


@pytest.fixture
def start_sandbox(tls_certs) -> Iterator[Callable]:
    """Start a sandbox from a SandboxState or a scenario name/path; stopped after the test."""
    from sfwizard.sandbox.server import Sandbox

    running: list[Sandbox] = []

    def _start(state_or_scenario="healthy", faults: list[str] | None = None) -> Sandbox:
        if isinstance(state_or_scenario, str):
            from sfwizard.sandbox.scenarios.loader import load_scenario

            state = load_scenario(state_or_scenario)
        else:
            state = state_or_scenario
        if faults:
            from sfwizard.sandbox.faults import apply_spec

            for spec in faults:
                apply_spec(state.faults, spec)
        sb = Sandbox(state, port=0, certs=tls_certs).start()
        running.append(sb)
        return sb

    yield _start
    for sb in running:
        sb.stop()


@pytest.fixture
def sandbox(start_sandbox):
    """The ``healthy`` scenario, running."""
    return start_sandbox("healthy")


@pytest.fixture
def ca_session(tls_certs):
    """A requests.Session that trusts only the sandbox's CA (verification stays on)."""
    import requests

    s = requests.Session()
    s.verify = str(tls_certs.ca_cert)
    # Otherwise a REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE in the environment overrides .verify (requests #3829).
    s.trust_env = False
    yield s
    s.close()


# -- signed in to a running sandbox -----------------------------------------------------------------------------

@pytest.fixture
def sign_in() -> Callable[[dict[str, Any]], Any]:
    """``sign_in(info)``: the wizard's own PKCE sign-in to a running sandbox, approved by its admin."""
    from sfwizard.demo import approve_in_sandbox
    from sfwizard.integrations import signin

    def run(info: dict[str, Any]) -> signin.TokenSet:
        return signin.demo_sign_in(info, approve=lambda url: approve_in_sandbox(url, info))["tokens"]

    return run


@pytest.fixture
def limits_status() -> Callable[[dict[str, Any], str], int]:
    """``limits_status(info, access_token)``: the HTTP status of a REST call made with that token."""
    import httpx

    from sfwizard.integrations.transport import tls_verify

    def status(info: dict[str, Any], token: str) -> int:
        with httpx.Client(verify=tls_verify(info["ca_cert"]), timeout=10) as c:
            return c.get(info["instance_url"] + "/services/data/v60.0/limits",
                         headers={"Authorization": f"Bearer {token}"}).status_code

    return status


# -- the one fake keychain -------------------------------------------------------------------------------------

def _fake_keyring_class():
    """Built lazily so keyring is imported only where a test needs it."""
    from keyring.backend import KeyringBackend
    from keyring.errors import PasswordDeleteError

    class FakeKeyring(KeyringBackend):
        """An OS keychain in memory. ``down``: locked, every read and write raises. ``hang``: every call
        waits for that event (at most 10 s), as a keychain that never answers."""

        priority = 1

        def __init__(self) -> None:
            super().__init__()
            self.store: dict[tuple[str, str], str] = {}
            self.down = False
            self.hang: threading.Event | None = None

        def _answer(self) -> None:
            if self.hang is not None:
                self.hang.wait(10)
            if self.down:
                raise RuntimeError("keychain locked")

        def get_password(self, service, username):
            self._answer()
            return self.store.get((service, username))

        def set_password(self, service, username, password):
            self._answer()
            self.store[(service, username)] = password

        def delete_password(self, service, username):
            self._answer()
            if self.store.pop((service, username), None) is None:
                raise PasswordDeleteError("not found")

    return FakeKeyring


@pytest.fixture
def fake_keyring():
    """A working in-memory keychain, installed for the test (the autouse default is: no keychain)."""
    import keyring

    old = keyring.get_keyring()
    backend = _fake_keyring_class()()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        if backend.hang is not None:
            backend.hang.set()  # let an abandoned call finish
        keyring.set_keyring(old)


# -- the one token-set builder -----------------------------------------------------------------------------------

@pytest.fixture
def make_tokens() -> Callable[..., Any]:
    """``make_tokens(**fields)``: a signed-in TokenSet with plausible values; any field can be replaced."""
    from sfwizard.integrations.signin import TokenSet

    def build(**fields: Any) -> TokenSet:
        values: dict[str, Any] = {
            "access_token": "00D000000000001!" + "a" * 40, "instance_url": "https://x.my.salesforce.com",
            "login_url": "https://login", "client_id": "cid", "refresh_token": "5Aep" + "b" * 40,
            "id_url": "https://login/id/00D/005", "org_id": "00D", "user_id": "005", "username": "admin@x",
            "source": "web"}
        values.update(fields)
        return TokenSet(**values)

    return build


# -- the one leak assertion -----------------------------------------------------------------------------------

_ACCESS_TOKEN = re.compile(r"^00D[0-9A-Za-z]{12,15}!")


def _gather(outputs: Any) -> tuple[dict[str, str], dict[str, int]]:
    """(texts by name, modes of the files among them). A zip file counts as its members."""
    if isinstance(outputs, Mapping):
        items: Iterable[Any] = list(outputs.items())
    elif isinstance(outputs, (Path, tuple)):
        items = [outputs]
    else:
        items = outputs
    texts: dict[str, str] = {}
    modes: dict[str, int] = {}
    for item in items:
        if not isinstance(item, Path):
            name, text = item
            texts[str(name)] = text
            continue
        assert item.is_file(), f"{item} was not written"
        modes[str(item)] = stat.S_IMODE(item.stat().st_mode)
        if zipfile.is_zipfile(item):
            with zipfile.ZipFile(item) as zf:
                for member in zf.namelist():
                    texts[f"{item.name}/{member}"] = zf.read(member).decode("utf-8", errors="replace")
        else:
            texts[item.name] = item.read_bytes().decode("utf-8", errors="replace")
    return texts, modes


def _no_leak(outputs: Any, secrets: Mapping[str, str] | Iterable[str] = (), *, mode: int | None = 0o600,
             window: int = 12) -> dict[str, str]:
    """Assert that no piece of any secret is in any output, and that every file among the outputs has ``mode``.

    ``outputs``: a Path, a ``{name: text}`` mapping, or a list of Paths and ``(name, text)`` pairs; a zip file
    is read member by member. A secret leaks when any ``window`` characters of it appear (the whole secret
    when shorter), in the text as written or with Markdown's backslash escapes removed. A Salesforce access
    token (``<org id>!<opaque>``) is looked for by its opaque part only: the org id is no secret.
    Returns the texts, by name, for the test's own positive assertions.
    """
    texts, modes = _gather(outputs)
    named = dict(secrets) if isinstance(secrets, Mapping) else {f"secret #{i}": s for i, s in enumerate(secrets)}
    found: list[str] = []
    for what, secret in named.items():
        assert secret, f"{what}: an empty secret proves nothing"
        body = secret[_ACCESS_TOKEN.match(secret).end():] if _ACCESS_TOKEN.match(secret) else secret
        size = min(window, len(body))
        pieces = {body[i:i + size] for i in range(len(body) - size + 1)}
        for where, text in texts.items():
            plain = text.replace("\\", "")
            hit = next((p for p in sorted(pieces) if p in text or p in plain), None)
            if hit is not None:
                found.append(f"{what} in {where} ({hit!r})")
    assert not found, "leaked: " + "; ".join(sorted(found))
    if mode is not None:
        wrong = {path: oct(m) for path, m in modes.items() if m != mode}
        assert not wrong, f"files not mode {oct(mode)}: {wrong}"
    return texts


@pytest.fixture
def assert_no_leak() -> Callable[..., dict[str, str]]:
    """``assert_no_leak(outputs, secrets, mode=0o600)``: see ``_no_leak``."""
    return _no_leak


os.environ.setdefault("SFWIZARD_TEST", "1")
