"""`sfwizard --demo` in a real terminal (tmux, 80x24), driven by keys as a person types them; what the terminal
shows is read back with capture-pane."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]


class Tmux:
    def __init__(self, name: str, home: Path) -> None:
        self.name = name
        sfwizard = str(Path(sys.executable).with_name("sfwizard"))
        env = {"SFWIZARD_HOME": str(home), "TERM": "xterm-256color", "PATH": os.environ.get("PATH", "")}
        command = " ".join(f"{k}={v!r}" for k, v in env.items()) + f" {sfwizard} --demo; echo EXITED=$?; sleep 30"
        subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "80", "-y", "24", command], check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True).stdout

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def wait_for(self, text: str, limit: float = 60.0) -> str:
        deadline = time.monotonic() + limit
        shown = ""
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            time.sleep(0.2)  # polling a real terminal for what it shows; not a timing assertion
        raise AssertionError(f"{text!r} never appeared; the terminal shows:\n{shown}")

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def test_the_demo_in_an_80_by_24_terminal(tmp_path: Path) -> None:
    t = Tmux(f"sfwizard-{os.getpid()}", tmp_path)
    try:
        first = t.wait_for("Before you begin")
        assert "DEMO" in first
        assert all(len(line) <= 80 for line in first.splitlines())
        t.wait_for("a person must confirm")  # the status page was read; the people are asked
        t.keys("c")
        t.wait_for("Confirm")
        t.keys("Avery", "Enter")
        t.wait_for("Next ▶ ready")
        t.keys("n")
        t.wait_for("Sign in with the browser")
        t.keys("1")
        t.wait_for("Open this URL to sign in")
        t.keys("v")  # the demo's stand-in approves as the Salesforce admin
        shown = t.wait_for("Northwind")  # the header names the org once signed in
        header = shown.splitlines()[0]
        assert "Northwind" in header and "PRODUCTION" in header and len(header) <= 80
        t.wait_for("Next ▶ ready")  # the connect step's checks ran: nothing in flight
        t.keys("C-q")
        t.wait_for("EXITED=0", 20)
    finally:
        t.close()
