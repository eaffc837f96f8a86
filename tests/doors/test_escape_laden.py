"""Nothing from outside acts on a terminal: an org name, a platform's lastError, a status page and an OAuth
error_description, all laden with escapes (OSC 52 writes the clipboard, CSI 2J clears the screen, BEL, a C1 CSI),
run through `check`, `report` and the sign-in. `cat -v` of stdout, stderr, the log and the report shows no raw
ESC or BEL — and shows the escapes, written out, so what the server sent can still be read."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfwizard.inert import inert, is_inert

ROOT = Path(__file__).resolve().parents[2]
OSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"  # "rm -rf ~" into the clipboard
CLEAR = "\x1b[2J"
SCENARIO = """schema: 1
name: escape-laden
extends: status-incident
description: "Every text a server hands back carries terminal escapes"
orgs:
  prod:
    name: "Northwind \\e]52;c;cm0gLXJmIH4=\\a\\e[2J Traders \\x9b31m"
platform:
  last_error: "INVALID_SESSION_ID: \\e[2J\\e]0;pwned\\a expired \\e]52;c;SGk=\\a"
status_page:
  description: "Partial \\e[5m Outage \\a\\r"
"""
RAW = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # what `cat -v` would show as ^[ ^G M-^[ …


def _raw(data: bytes) -> list[str]:
    text = data.decode("utf-8", errors="replace")
    return sorted({repr(ch) for ch in RAW.findall(text)})


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "sfwizard", *args], capture_output=True, cwd=ROOT,
                          env={**os.environ, **env}, timeout=240)


def test_an_escape_laden_scenario_through_check_and_report(tmp_path: Path, sfwizard_home: Path) -> None:
    scenario = tmp_path / "escape-laden.yaml"
    scenario.write_text(SCENARIO)
    env = {"SFWIZARD_HOME": str(sfwizard_home)}
    outputs: dict[str, bytes] = {}
    check = _run("check", "--demo", "--scenario", str(scenario), env=env)
    assert check.returncode == 1, check.stderr  # it ran and found what the scenario breaks
    outputs["check stdout"], outputs["check stderr"] = check.stdout, check.stderr
    report = _run("report", "--demo", "--scenario", str(scenario), "-o", str(tmp_path / "out"), "--debug", env=env)
    assert report.returncode == 1, report.stderr
    outputs["report stdout"], outputs["report stderr"] = report.stdout, report.stderr
    (md,) = (tmp_path / "out").glob("*.md")
    outputs["report.md"] = md.read_bytes()
    outputs["sfwizard.log"] = (sfwizard_home / "data" / "sfwizard.log").read_bytes()
    import zipfile

    (bundle,) = (tmp_path / "out").glob("*.zip")
    with zipfile.ZipFile(bundle) as zf:
        for name in zf.namelist():
            outputs[f"bundle/{name}"] = zf.read(name)
    for name, data in outputs.items():
        assert _raw(data) == [], f"{name} carries raw control characters: {_raw(data)}"
    # … and what was sent is still there to read, written out
    table = outputs["check stdout"].decode()
    assert "Northwind \\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b[2J Traders \\x9b31m" in table  # the org name
    assert "INVALID_SESSION_ID: \\x1b[2J\\x1b]0;pwned\\x07 expired" in table  # the platform's lastError
    assert "Partial \\x1b[5m Outage \\x07" in table  # the status page
    assert "\\x1b]52" in outputs["report.md"].decode()


def test_an_oauth_error_description_sent_to_the_listener(sandbox, tmp_path: Path) -> None:
    """The review's reproduction: error_description carrying OSC 52 and CSI 2J reached stderr raw."""
    info = sandbox.info()
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sfwizard", "login", "--login-url", info["login_url"],
                             "--client-id", info["client_id"], "--port", str(port), "--no-browser"], cwd=ROOT,
                            env={**os.environ, "SFWIZARD_CA_CERT": info["ca_cert"]},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err: queue.Queue[bytes] = queue.Queue()
    reader = threading.Thread(target=lambda: [err.put(line) for line in proc.stderr], daemon=True)  # type: ignore
    reader.start()
    seen: list[bytes] = []
    state = ""
    deadline = time.monotonic() + 60
    while not state and time.monotonic() < deadline:
        try:
            line = err.get(timeout=1)
        except queue.Empty:
            continue
        seen.append(line)
        found = re.search(rb"https://\S+/services/oauth2/authorize\?\S+", line)
        if found:
            state = parse_qs(urlsplit(found.group(0).decode()).query)["state"][0]
    assert state, b"".join(seen)
    evil = f"you were denied {OSC52}{CLEAR}\x07\x9b2J"
    answer = httpx.get(f"http://127.0.0.1:{port}/OauthRedirect",
                       params={"state": state, "error": "access_denied", "error_description": evil}, timeout=10)
    assert answer.status_code == 200
    assert "\x1b" not in answer.text  # the browser's page escapes it as HTML (and as text)
    proc.wait(timeout=60)
    reader.join(10)  # stderr read to its end
    out = proc.stdout.read()  # type: ignore[union-attr]
    while not err.empty():
        seen.append(err.get())
    stderr = b"".join(seen)
    assert proc.returncode == 2
    assert _raw(out) == [] and _raw(stderr) == [], (_raw(out), _raw(stderr))
    assert b"\\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b[2J" in stderr  # shown, written out


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the one function, over arbitrary strings -------------------------------------------------------------------

@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_inert_leaves_no_raw_control_character(text: str) -> None:
    out = inert(text)
    assert is_inert(out)
    assert not RAW.search(out)
    assert inert(out) == out  # idempotent: made inert twice is made inert once
    assert "\n" not in inert(text, keep_newlines=False) and "\t" not in inert(text, keep_newlines=False)
    out.encode("utf-8")  # no lone surrogate is left either: it can always be written


@given(st.text(alphabet=st.characters(exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"))))
def test_printable_text_is_unchanged(text: str) -> None:
    assert inert(text) == text
    assert inert(text + "\n\tend") == text + "\n\tend"


@pytest.mark.parametrize("raw,shown", [("\x1b[2J", "\\x1b[2J"), ("\x07", "\\x07"), ("\x9b", "\\x9b"),
                                       ("\x7f", "\\x7f"), ("\r", "\\x0d"), ("\x00", "\\x00"),
                                       ("\u202e", "\\u202e"), ("\ud800", "\\ud800"), ("Zoë 東京 🙂", "Zoë 東京 🙂")])
def test_inert_writes_each_control_out(raw: str, shown: str) -> None:
    assert inert(raw) == shown


def test_an_escape_laden_scenario_through_the_wizard(tmp_path: Path) -> None:
    """The same scenario in the wizard: the header's org, the status page card and the platform's error on the
    sync step shown as text — no raw control character in anything drawn (a screen dump), escapes written out."""
    import asyncio

    from sfwizard.screens.app import WizardApp
    from textual.widgets import Static

    from sfwizard.cli import WizardOptions

    scenario = tmp_path / "escape-laden.yaml"
    scenario.write_text(SCENARIO)
    app = WizardApp(WizardOptions(demo=True, scenario=str(scenario)))
    seen: list[str] = []

    async def until(pilot, cond, limit: float = 60) -> None:  # noqa: ANN001
        for _ in range(int(limit / 0.05)):
            if cond():
                return
            await pilot.pause(0.05)
        raise AssertionError("waited too long")

    def snap() -> None:
        seen.append(app.export_screenshot())
        seen.extend(str(w.render()) for w in app.screen.query(Static))
        seen.append(app.frame.query_one("#header").org_text)

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.recovery is not None and "before.status_page" in
                        app.recovery.navigator.results)
            await pilot.pause(0.3)
            snap()  # the status page's text on step 1
            app.recovery.navigator.session.completed.append("before")
            app.frame.go_to("connect")
            await until(pilot, lambda: app.frame.pane.ready and app.frame.pane.choices is not None)
            await pilot.press("1")
            await until(pilot, lambda: bool(app.frame.pane.url))
            await pilot.press("v")
            await until(pilot, lambda: app.recovery.signed_in is not None)
            await pilot.pause(0.5)
            snap()  # the org's name, in the header and the identity card
            app.recovery.navigator.session.completed += ["connect", "impact", "mappings", "security", "reauthorize"]
            app.frame.go_to("troubleshoot")  # every check, the platform's lastError among them
            await until(pilot, lambda: app.frame.pane.ready and not app.frame.pane.workers_running(), 90)
            await pilot.pause(0.5)
            snap()

    asyncio.run(main())
    drawn = "\n".join(seen)
    raw = RAW.findall(drawn.replace("\n", "").replace("\t", ""))  # newlines and tabs are layout, not escapes
    assert not raw, sorted({repr(c) for c in raw})
    assert "Northwind" in drawn and "\\x1b" in drawn  # the escapes written out, readable
