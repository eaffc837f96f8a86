"""``sfwizard sandbox`` and ``sfwizard scenarios`` as a person runs them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import httpx

from sfwizard.integrations.transport import tls_verify
from sfwizard.sandbox.scenarios.loader import builtin_scenarios


def test_sandbox_command_prints_one_json_line_and_stops_cleanly(assert_no_leak) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "sfwizard", "sandbox", "--scenario", "healthy"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        info = json.loads(proc.stdout.readline())
        for key in ("instance_url", "login_url", "ca_cert", "client_id", "client_secret", "username", "password",
                    "px_api_url", "px_api_key", "status_url", "scenario"):
            assert info[key], key
        with httpx.Client(verify=tls_verify(info["ca_cert"]), timeout=10) as c:
            assert c.get(info["status_url"] + "/api/v2/status.json").status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert_no_leak({"stderr": err}, {"password": info["password"], "client secret": info["client_secret"],
                                     "PX API key": info["px_api_key"]})


def test_sandbox_command_port_in_use_is_one_line(run_cli) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = run_cli("sandbox", "--port", str(port), timeout=30)
    assert r.returncode == 2
    assert f"port {port}" in r.stderr
    assert "Traceback" not in r.stderr


def test_scenarios_command_lists_one_line_each(run_cli) -> None:
    builtins = [name for name, _ in builtin_scenarios()]
    out = run_cli("scenarios")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == len(builtins)
    assert lines[0].split()[0] == builtins[0]
