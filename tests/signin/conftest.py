"""Sign-in fixtures: the web flow's pieces, shared by the sign-in tests (a whole sign-in is ``sign_in`` in
tests/conftest.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from sfwizard.demo import approve_in_sandbox
from sfwizard.integrations import signin


@pytest.fixture
def approving() -> Callable[..., Callable[[str], None]]:
    """``approving(info, seen=None)``: an on_url that hands the URL to the stand-in person in a thread (as a
    real browser would), noting the URL in ``seen["url"]``."""
    def make(info: dict[str, Any], seen: dict[str, Any] | None = None) -> Callable[[str], None]:
        def on_url(url: str) -> None:
            if seen is not None:
                seen["url"] = url
            threading.Thread(target=approve_in_sandbox, args=(url, info), daemon=True).start()

        return on_url

    return make


@pytest.fixture
def web_login() -> Callable[..., signin.TokenSet]:
    """``web_login(info, on_url, timeout=30)``: the PKCE web flow against the sandbox on any free port."""
    def run(info: dict[str, Any], on_url: Callable[[str], None], timeout: float = 30) -> signin.TokenSet:
        return signin.web_login(info["login_url"], info["client_id"], port=0, open_browser=False, on_url=on_url,
                                ca_cert=info["ca_cert"], timeout=timeout)

    return run


@pytest.fixture
def admin_id(sandbox) -> str:
    """The Id of the running sandbox's admin, who approves the sign-ins."""
    return sandbox.state.default_org.user_by_username(sandbox.info()["username"])["Id"]
