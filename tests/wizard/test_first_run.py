"""A first real run (not --demo), as a new admin meets it: a fresh HOME, no environment variable set and no file
edited by hand — the settings pane (g) and the Connect step alone get the wizard signed in and to step 3. The
"org" is the sandbox (the person types its addresses where a real admin keeps the defaults): once with the
settings pane and the browser sign-in, once with an existing Salesforce CLI login (slow: the real `sf`)."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sfwizard.screens.app import WizardApp

from sfwizard.cli import WizardOptions

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
from external_tools import real_cli, sf_env, sf_login_to_sandbox  # noqa: E402

SIZE = (100, 32)



async def set_field(d: Any, key: str, value: str) -> None:
    """In the settings pane: move to a field, type its value, Enter keeps it."""
    from sfwizard.screens.widgets import TextField

    field = next(w for w in d.pane.query(TextField) if w.name == key)
    field.focus()
    await d.pilot.pause()
    await d.press("ctrl+u")
    await d.type(value)
    await d.press("enter")
    await d.until(lambda: d.pane.form.view(key).changed or d.pane.form.view(key).shown, f"{key} kept", 10)


async def settings_for_the_sandbox(d: Any, info: dict[str, Any], *, client_id: bool) -> None:
    """What a person fills in the settings pane for this "org" (a real admin: the client id and the API key)."""
    await d.press("g")
    await d.until(lambda: d.frame.in_settings and d.pane.ready and d.pane.form is not None, "the settings", 10)
    await set_field(d, "ca_cert", info["ca_cert"])
    await set_field(d, "status_url", info["status_url"])
    await set_field(d, "px_api_url", info["px_api_url"])
    await set_field(d, "px_api_key", info["px_api_key"])
    if client_id:
        await set_field(d, "login_url", info["login_url"])
        await set_field(d, "client_id", info["client_id"])
    await d.press("ctrl+s")
    await d.until(lambda: any("Settings saved" in s for s in d.said), "the save", 10)
    await d.press("escape", "escape")  # leave the field, then the pane
    await d.until(lambda: d.step == "before" and not d.frame.in_settings, "back on step 1", 10)


async def to_step_3(d: Any, way: str, approve: Any = None) -> None:
    await d.settled("before", 60)
    await d.confirm("Avery Admin")
    await d.gate_open("before", 30)
    await d.next("connect")
    await d.until(lambda: d.pane.choices is not None, "the ways to sign in", 30)
    number = next(i + 1 for i, c in enumerate(d.pane.choices) if c.available and c.method == way)
    await d.press(str(number))
    if approve is not None:
        await d.until(lambda: bool(d.pane.url), "the sign-in URL", 20)
        threading.Thread(target=approve, args=(d.pane.url,), daemon=True).start()  # the person, in a browser
    await d.until(lambda: d.rec.signed_in is not None, "the sign-in", 60)
    await d.gate_open("connect", 60)
    await d.next("impact")


@pytest.fixture
def no_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine without the Salesforce CLI."""
    monkeypatch.setenv("SFWIZARD_SF_CLI", str(Path("/nonexistent/sf")))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")


@pytest.mark.usefixtures("no_cli")
def test_a_first_real_run_gets_to_step_3_with_the_settings_pane_alone(start_sandbox, driver_for) -> None:
    """No `sf`: the CLI choice greyed with why; the settings pane's client id makes the browser available."""
    from sfwizard.demo import approve_in_sandbox

    info = start_sandbox("revoked-token").info()
    app = WizardApp(WizardOptions())  # a real run: settings from nowhere but what the person types
    started = time.perf_counter()

    async def body(d: Any) -> None:
        await d.until(lambda: d.rec is not None and d.pane is not None and d.pane.ready, "step 1", 30)
        assert d.rec.demo_scenario is None
        await settings_for_the_sandbox(d, info, client_id=True)
        await to_step_3(d, "browser", approve=lambda url: approve_in_sandbox(url, info))
        assert d.step == "impact"
        print(f"first real run without sf: {d.keys} key presses, {time.perf_counter() - started:.0f} s")

    driver_for.run(app, body)
    assert not [k for k in os.environ if k in ("SFWIZARD_CLIENT_ID", "SFWIZARD_PX_API_KEY")]


@pytest.mark.usefixtures("no_cli")
def test_without_a_client_id_the_browser_is_greyed_and_says_why(start_sandbox, driver_for) -> None:
    info = start_sandbox("revoked-token").info()
    app = WizardApp(WizardOptions())

    async def body(d: Any) -> None:
        await d.until(lambda: d.rec is not None and d.pane is not None and d.pane.ready, "step 1", 30)
        await settings_for_the_sandbox(d, info, client_id=False)
        await d.settled("before", 60)
        await d.confirm("Avery")
        await d.next("connect")
        await d.until(lambda: d.pane.choices is not None, "the ways to sign in", 30)
        by = {c.method: c for c in d.pane.choices}
        assert not by["sf_cli"].available and "not installed" in by["sf_cli"].why
        assert not by["browser"].available and "client id" in by["browser"].why
        shown = " ".join(str(w.render()) for w in d.pane.query(".why"))
        assert "g opens Settings" in shown  # the way forward is a key of the wizard, not a shell command
        await d.press("2")  # a greyed choice: refused with why, nothing started
        await d.pilot.pause(0.2)
        assert d.rec.signed_in is None and not d.pane.workers_running("signin")

    driver_for.run(app, body)


@real_cli
def test_a_first_real_run_gets_to_step_3_with_an_existing_cli_login(start_sandbox, driver_for, tmp_path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """`sf org login access-token --alias sbx` done before (a Salesforce admin's machine): the Connect step lists
    the login first, and choosing it signs the wizard in — no client id, no connected app."""
    info = start_sandbox("revoked-token").info()
    home = tmp_path / "home"
    home.mkdir()
    env = sf_env(info, home)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    sf_login_to_sandbox(info, env)
    app = WizardApp(WizardOptions())
    started = time.perf_counter()

    async def body(d: Any) -> None:
        await d.until(lambda: d.rec is not None and d.pane is not None and d.pane.ready, "step 1", 30)
        await settings_for_the_sandbox(d, info, client_id=False)
        await to_step_3(d, "sf_cli")
        assert d.rec.signed_in.username == info["username"]
        print(f"first real run with sf: {d.keys} key presses, {time.perf_counter() - started:.0f} s")

    driver_for.run(app, body)
