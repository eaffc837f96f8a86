"""`sfwizard --web --demo` served by textual-serve, loaded in a real Chromium (puppeteer-core) from the link it
prints (a secret in it): the wizard starts in the page and its first screen does its work (read back from the
recovery session it saves)."""

from __future__ import annotations

import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from external_tools import REAL_BROWSER, browser_env

HERE = Path(__file__).parent
pytestmark = REAL_BROWSER


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_wizard_in_a_browser_tab_loads_its_first_screen(tmp_path: Path) -> None:
    port = _free_port()
    home = tmp_path / "home"
    sfwizard = str(Path(sys.executable).with_name("sfwizard"))
    server = subprocess.Popen([sfwizard, "--web", "--demo", "--web-port", str(port)],
                              env={**os.environ, "SFWIZARD_HOME": str(home)}, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in server.stdout], daemon=True).start()
    try:
        url = ""
        deadline = time.monotonic() + 30
        while not url and time.monotonic() < deadline:  # the link the server prints (a secret in it)
            try:
                found = re.search(rf"http://127\.0\.0\.1:{port}/w/[A-Za-z0-9_-]+/", lines.get(timeout=1))
            except queue.Empty:
                continue
            url = found.group(0) if found else ""
        assert url, "the server printed its link"
        while time.monotonic() < deadline:  # until the server listens (polling a socket, not a timing check)
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        shot = tmp_path / "web.png"
        out = subprocess.run(["node", str(HERE / "web_wizard.mjs"), url, str(shot)],
                             env={**os.environ, **browser_env()},
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "DRAWN" in out.stdout
        assert "EXTERNAL" not in out.stdout, out.stdout  # nothing loaded from outside this machine
        assert "CSP" not in out.stdout, out.stdout  # and the page's policy blocked nothing it needs
        assert shot.stat().st_size > 10_000  # a drawn terminal, not an empty page
        saved: dict = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "before.status_page" not in {r["id"] for r in saved.get("results", [])}:
            sessions = list((home / "data" / "sessions").glob("*/session.json"))
            assert len(sessions) <= 1, "the served wizard started one recovery session"
            saved = json.loads(sessions[0].read_text()) if sessions else {}
            time.sleep(0.2)
        assert saved["demo_scenario"] == "revoked-token"
        assert saved["step"] == "before"
        assert "before.status_page" in {r["id"] for r in saved["results"]}  # the first screen did its work
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
