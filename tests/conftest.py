"""Shared fixtures: a private SFWIZARD_HOME, one certificate set per run, sandboxes on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tls_certs(tmp_path_factory: pytest.TempPathFactory):
    from sfwizard.sandbox.tls import ensure_certificates

    return ensure_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(autouse=True)
def sfwizard_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data/config folders: nothing leaks into the real user's."""
    home = tmp_path / "sfwizard-home"
    monkeypatch.setenv("SFWIZARD_HOME", str(home))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.delenv("SFWIZARD_CLIENT_ID", raising=False)
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


os.environ.setdefault("SFWIZARD_TEST", "1")
