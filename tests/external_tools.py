"""Where the tools nobody here wrote are found — a real Chromium with puppeteer-core, the Salesforce CLI — and
the marks that skip a test when one is missing. One place, so every test that drives them agrees.

    SFW_NODE_MODULES   a folder whose node_modules holds puppeteer-core (default: scratch/node in the clone)
    SFW_CHROMIUM       the browser (default /usr/bin/chromium)
    SFWIZARD_SF_CLI    the `sf` to run (default: scratch/sfcli's, then `sf` on PATH)
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

F = TypeVar("F", bound=Callable[..., Any])

ROOT = Path(__file__).resolve().parents[1]
NODE_MODULES = Path(os.environ.get("SFW_NODE_MODULES", ROOT / "scratch" / "node"))
CHROMIUM = os.environ.get("SFW_CHROMIUM", "/usr/bin/chromium")

REAL_BROWSER = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no browser at {CHROMIUM} (set SFW_CHROMIUM)"),
    pytest.mark.skipif(not (NODE_MODULES / "node_modules" / "puppeteer-core").is_dir(),
                       reason=f"puppeteer-core is not installed under {NODE_MODULES} (set SFW_NODE_MODULES)"),
]


def browser_env() -> dict[str, str]:
    """What the .mjs drivers read to find puppeteer-core and the browser."""
    return {"SFW_NODE_MODULES": str(NODE_MODULES), "SFW_CHROMIUM": CHROMIUM}


def _real_sf() -> str | None:
    local = ROOT / "scratch" / "sfcli" / "node_modules" / ".bin" / "sf"
    for candidate in (os.environ.get("SFWIZARD_SF_CLI"), str(local), shutil.which("sf")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


REAL_SF = _real_sf()
REAL_CLI = [
    pytest.mark.slow,
    pytest.mark.skipif(REAL_SF is None, reason="the Salesforce CLI is not installed (npm install @salesforce/cli@2 "
                                               "into scratch/sfcli, or point SFWIZARD_SF_CLI at its bin/sf)"),
]


def _marked(marks: list[Any]) -> Callable[[F], F]:
    def apply(test: F) -> F:
        for mark in reversed(marks):
            test = mark(test)
        return test

    return apply


real_browser = _marked(REAL_BROWSER)  # a test that drives Chromium: slow, skipped where it cannot run
real_cli = _marked(REAL_CLI)  # a test that runs the real `sf`: slow, skipped where it is not installed


def sf_env(info: dict[str, Any], home: Path) -> dict[str, str]:
    """What the real `sf` runs with against a sandbox: a scratch HOME, the sandbox's CA, no telemetry, no update
    check, the generic keychain (REFERENCE.md), and SFWIZARD_SF_CLI pointing at it."""
    return {"HOME": str(home), "NODE_EXTRA_CA_CERTS": info["ca_cert"], "SF_USE_GENERIC_UNIX_KEYCHAIN": "true",
            "SF_DISABLE_TELEMETRY": "true", "SF_SKIP_NEW_VERSION_CHECK": "true", "SF_AUTOUPDATE_DISABLE": "true",
            "SFWIZARD_SF_CLI": str(REAL_SF)}


def sf_login_to_sandbox(info: dict[str, Any], env: dict[str, str], alias: str = "sbx") -> None:
    """`sf org login access-token --alias ALIAS` against the sandbox, with a token of its admin (password grant)."""
    import subprocess

    import httpx

    from sfwizard.integrations.transport import ssl_context

    with httpx.Client(verify=ssl_context(info["ca_cert"]), timeout=10) as c:
        token = c.post(info["login_url"] + "/services/oauth2/token", data={
            "grant_type": "password", "client_id": info["client_id"], "client_secret": info["client_secret"],
            "username": info["username"], "password": info["password"]}).json()["access_token"]
    environ = {k: v for k, v in os.environ.items() if k != "SF_TEMP_SHOW_SECRETS"}
    done = subprocess.run([str(REAL_SF), "org", "login", "access-token", "--instance-url", info["instance_url"],
                           "--no-prompt", "--alias", alias, "--json"],
                          env={**environ, **env, "SF_ACCESS_TOKEN": token}, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
